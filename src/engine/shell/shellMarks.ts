// Parses the shell-integration marks a shell prints (`ESC ] 633 ; <nonce> ; <type> [; <arg>] BEL`) out of raw
// terminal output, with their absolute offsets. Runs on the output hot path: it looks for ESC only and never
// decodes text. It must never accept a mark without this session's nonce (program output cannot forge one).

/** A mark longer than this is not ours (the longest real one is a cwd of PATH_MAX bytes, escaped). */
const MAX_MARK_BYTES = 16 * 1024;

/**
 * Mark types (OSC 633 style, as VS Code's shell integration): A prompt start, B prompt end, C command start
 * (output follows), D command end with exit code, F continuation prompt start (PS2), P property (Cwd=…).
 */
export type ShellMark =
  | { type: 'A' | 'B' | 'C' | 'F'; start: number; end: number }
  | { type: 'D'; start: number; end: number; exitCode: number | null }
  | { type: 'P'; start: number; end: number; cwd: string };

const ESC = 0x1b;
const BEL = 0x07;

/** Undoes the escaping the shell scripts apply to a cwd: `\\` for a backslash, `\xNN` for a control byte or `;`. */
function unescapeMarkValue(value: string): string {
  return value.replace(/\\(\\|x[0-9a-fA-F]{2})/g, (_all, seq: string) =>
    seq === '\\' ? '\\' : String.fromCharCode(parseInt(seq.slice(1), 16)),
  );
}

export class ShellMarkParser {
  /** Bytes of a mark split across chunks: from its ESC up to the end of the previous chunk. */
  private carry: Buffer | null = null;
  private carryStart = 0;
  private readonly prefix: Buffer;

  constructor(nonce: string) {
    this.prefix = Buffer.from(`\x1b]633;${nonce};`);
  }

  /** Marks in `chunk`, whose first byte is at absolute offset `chunkOffset`. */
  parse(chunk: Buffer, chunkOffset: number): ShellMark[] {
    let data = chunk;
    let base = chunkOffset;
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, chunk]);
      base = this.carryStart;
      this.carry = null;
    }
    const marks: ShellMark[] = [];
    let from = 0;
    for (;;) {
      const esc = data.indexOf(ESC, from);
      if (esc < 0) break;
      // Could this ESC start our mark? Compare as much of the prefix as the data holds.
      const available = Math.min(this.prefix.length, data.length - esc);
      if (data.compare(this.prefix, 0, available, esc, esc + available) !== 0) {
        from = esc + 1;
        continue;
      }
      if (available < this.prefix.length) {
        this.keep(data, esc, base);
        break;
      }
      const bel = data.indexOf(BEL, esc + this.prefix.length);
      if (bel < 0) {
        this.keep(data, esc, base);
        break;
      }
      const mark = this.decode(data.subarray(esc + this.prefix.length, bel).toString('latin1'), base + esc, base + bel + 1);
      if (mark !== null) marks.push(mark);
      from = bel + 1;
    }
    return marks;
  }

  private keep(data: Buffer, at: number, base: number): void {
    // A would-be mark that never ends is output, not a mark: drop the carry past the bound.
    if (data.length - at > MAX_MARK_BYTES) return;
    this.carry = Buffer.from(data.subarray(at));
    this.carryStart = base + at;
  }

  private decode(body: string, start: number, end: number): ShellMark | null {
    const type = body[0];
    const arg = body.length > 2 && body[1] === ';' ? body.slice(2) : '';
    switch (type) {
      case 'A':
      case 'B':
      case 'C':
      case 'F':
        return { type, start, end };
      case 'D': {
        const code = /^\d{1,3}$/.test(arg) ? Number(arg) : null;
        return { type, start, end, exitCode: code };
      }
      case 'P':
        if (!arg.startsWith('Cwd=')) return null;
        // latin1 kept the bytes; the cwd itself is UTF-8.
        return { type, start, end, cwd: Buffer.from(unescapeMarkValue(arg.slice(4)), 'latin1').toString('utf8') };
      default:
        return null;
    }
  }
}

/** Removes this session's marks from a stretch of output (exec output holds only what the command wrote). */
export function stripOwnMarks(data: Buffer, nonce: string): Buffer {
  const prefix = Buffer.from(`\x1b]633;${nonce};`);
  if (data.indexOf(prefix) < 0) return data;
  const parts: Buffer[] = [];
  let from = 0;
  for (;;) {
    const at = data.indexOf(prefix, from);
    if (at < 0) break;
    const bel = data.indexOf(BEL, at + prefix.length);
    if (bel < 0) break;
    parts.push(data.subarray(from, at));
    from = bel + 1;
  }
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}
