// Lets BEL end a DCS, SOS, PM or APC string on the way into a terminal emulator, as it ends an OSC: the daemon's
// headless screen and the dashboard's xterm.js both take output through it. xterm.js
// follows the VT500 parser, where only ST (or CAN/SUB) ends those strings and BEL inside them is ignored: one
// `ESC P … BEL` (or `ESC _ … BEL`) and everything after it is swallowed, so the screen stays blank for the rest of
// the session. Programs that end these strings with BEL exist; the text view and search already treat BEL as the
// end. This only rewrites that BEL into ST (`ESC \`); it never drops or reorders any other byte. Plain bytes, no
// Node and no DOM: the protocol package, shared by both.

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
/** Lead byte of the UTF-8 encoding of U+0080–U+00BF: the 8-bit C1 controls arrive as C2 xx. */
const C1_LEAD = 0xc2;
const ST_C1 = 0x9c;
/** The finals after ESC that open a string: DCS (P), SOS (X), PM (^), APC (_). */
const OPENS_AFTER_ESC = new Set([0x50, 0x58, 0x5e, 0x5f]);
/** The same four as C1 controls (U+0090, U+0098, U+009E, U+009F), which xterm.js also honours. */
const OPENS_AS_C1 = new Set([0x90, 0x98, 0x9e, 0x9f]);
const ST = new Uint8Array([ESC, 0x5c]);

export class BelEndsControlStrings {
  private inString = false;
  /** The previous byte, for the two-byte openers and ST that a chunk boundary can split. */
  private previous = -1;

  /** The bytes to hand to the terminal: `data` itself unless a BEL ended a string in it. */
  filter<T extends Uint8Array>(data: T): T | Uint8Array {
    let out: Uint8Array[] | null = null;
    let copiedUpTo = 0;
    for (let i = 0; i < data.length; i++) {
      const byte = data[i] as number;
      const previous = this.previous;
      this.previous = byte;
      if (!this.inString) {
        if ((previous === ESC && OPENS_AFTER_ESC.has(byte)) || (previous === C1_LEAD && OPENS_AS_C1.has(byte))) {
          this.inString = true;
        }
        continue;
      }
      if (byte === BEL) {
        out ??= [];
        out.push(data.subarray(copiedUpTo, i), ST);
        copiedUpTo = i + 1;
        this.inString = false;
        this.previous = -1;
      } else if (byte === ESC || byte === CAN || byte === SUB || (previous === C1_LEAD && byte === ST_C1)) {
        // ESC leaves the string in xterm.js (ESC \ is ST; anything else starts a new sequence); CAN/SUB abort it.
        this.inString = false;
      }
    }
    if (out === null) return data;
    out.push(data.subarray(copiedUpTo));
    return concat(out);
  }

  /** The terminal was reset: it parses the next bytes from the ground state. */
  reset(): void {
    this.inString = false;
    this.previous = -1;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}
