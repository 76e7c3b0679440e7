// Makes session output safe to print on a viewer's terminal (PRODUCT §3: terminal output is hostile).
// Every control character except \n and \t becomes a visible form (under --json, a \u escape); it never drops
// or reorders a character.

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

/**
 * Neutralizes one complete piece of text. CRs directly before an LF are dropped (a pty ends lines with \r\n,
 * and a CR right before a line feed cannot hide anything); any other CR shows as ^M.
 */
export function neutralize(text: string): string {
  return text.replace(/\r+\n/g, '\n').replace(UNSAFE, visible);
}

/**
 * Streaming form for output read in chunks: CRs at the end of a chunk are held back until the next chunk
 * says whether they ended a line, so chunk boundaries never change what is printed.
 */
export class Neutralizer {
  private pendingCrs = '';

  push(chunk: string): string {
    const text = this.pendingCrs + chunk;
    const held = /\r+$/.exec(text);
    this.pendingCrs = held === null ? '' : held[0];
    return neutralize(held === null ? text : text.slice(0, held.index));
  }

  /** Whatever is held back, at the end of the stream. */
  end(): string {
    const rest = neutralize(this.pendingCrs);
    this.pendingCrs = '';
    return rest;
  }
}

/**
 * What JSON.stringify leaves raw but a terminal acts on: DEL and the C1 controls (U+009B is a CSI on many
 * terminals) and the bidi controls. Only strings can hold them, so each becomes its `\uXXXX` escape there.
 */
const JSON_UNSAFE = /[\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/**
 * JSON.stringify, with every character a terminal would act on written as a `\uXXXX` escape (JSON.stringify does
 * that only for C0). The document parses to exactly the same value; printed, it cannot move, recolour or reorder
 * anything — the --json counterpart of neutralize().
 */
export function terminalSafeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    JSON_UNSAFE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
