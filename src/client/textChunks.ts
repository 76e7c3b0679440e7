// Splits text into input-request-sized pieces: one input request carries at most MAX_INPUT_BYTES (api.ts).

/**
 * 1 MiB per request (api.ts MAX_INPUT_BYTES); a UTF-16 code unit is at most 3 UTF-8 bytes, so 256 Ki code units
 * always fit.
 */
const CHUNK_CODE_UNITS = 256 * 1024;

/** Splits text into request-sized pieces without cutting a surrogate pair in half. */
export function chunkText(text: string, size = CHUNK_CODE_UNITS): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}
