// Turns raw terminal bytes into plain text: ANSI/OSC/DCS sequences removed, carriage returns resolved the way
// a terminal would overwrite the line, backspaces applied. Pure functions: no Node, no state.

// CSI, OSC and DCS/SOS/PM/APC strings (7- or 8-bit, ended by BEL or ST, as the screen ends them), nF and two-byte
// escapes (ESC 7, ESC =, ESC c…), and stray C0 controls (a lone ESC included) except \n \r \t \b. Keep in step with
// controlSequences.ts, which finds the same sequences in bytes for bounded reads.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)|\x1b[0-~]|\x1b[ -/]+[0-~]|[\x00-\x07\x0b\x0c\x0e-\x1f\x7f]|\x9b[0-?]*[ -/]*[@-~]/g;

function stripAnsi(text: string): string {
  return text.replace(ESCAPES, '');
}

/** Resolves `\r` (return to column 0, later text overwrites) and `\b` within each line. */
function resolveCarriageReturns(text: string): string {
  const lines = text.split('\n');
  return lines
    .map((line) => {
      if (!line.includes('\r') && !line.includes('\b')) return line;
      let cells: string[] = [];
      let col = 0;
      for (const ch of line) {
        if (ch === '\r') {
          col = 0;
        } else if (ch === '\b') {
          col = Math.max(0, col - 1);
        } else {
          cells[col] = ch;
          col++;
        }
      }
      cells = cells.map((c) => c ?? ' ');
      return cells.join('');
    })
    .join('\n');
}

export function toPlainText(raw: string): string {
  // A trailing \r before \n (CRLF from a PTY) must not wipe the line: normalise it first.
  return resolveCarriageReturns(stripAnsi(raw).replace(/\r+\n/g, '\n'));
}
