// Makes session output safe to print on a viewer's terminal (PRODUCT §3: terminal output is hostile).
// Every control character except \n and \t becomes a visible form; it never drops or reorders a character.

/** Bidirectional overrides and isolates: they reorder what the viewer sees ("Trojan Source", CVE-2021-42574). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
// Matching control characters is this module's whole job.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** `cat -v` notation: ESC → ^[, BEL → ^G, DEL → ^?, C1 CSI (U+009B) → M-^[; bidi controls → <U+202E>. */
function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (BIDI_CONTROLS.test(char)) return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  if (code === 0x7f) return '^?';
  if (code >= 0x80) return `M-${visible(String.fromCharCode(code - 0x80))}`;
  return `^${String.fromCharCode(code + 0x40)}`;
}

/** Neutralizes one complete piece of text. A CR directly before LF is dropped (terminal line ends); a lone CR shows as ^M. */
export function neutralize(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(UNSAFE, visible);
}

/**
 * Streaming form for output read in chunks: a CR at the end of a chunk is held back until the next chunk
 * says whether it was half of a CRLF, so chunk boundaries never change what is printed.
 */
export class Neutralizer {
  private pendingCr = false;

  push(chunk: string): string {
    let text = (this.pendingCr ? '\r' : '') + chunk;
    this.pendingCr = text.endsWith('\r');
    if (this.pendingCr) text = text.slice(0, -1);
    return neutralize(text);
  }

  /** Whatever is held back, at the end of the stream. */
  end(): string {
    const rest = this.pendingCr ? '^M' : '';
    this.pendingCr = false;
    return rest;
  }
}
