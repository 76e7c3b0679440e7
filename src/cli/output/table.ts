// Plain-text tables for human output: columns padded to their widest cell, measured without colour codes.
// Cells must already be neutralized; this module only lays them out.

/** SGR sequences added by the styler: they take no columns on screen. */
// eslint-disable-next-line no-control-regex -- ESC starts the sequences measured out here
const SGR = /\u001b\[[0-9;]*m/g;
/** A cell wider than this is cut with "…": one long task id must not push every other column off screen. */
const MAX_CELL_WIDTH = 48;

function width(cell: string): number {
  return [...cell.replace(SGR, '')].length;
}

function clip(cell: string): string {
  if (width(cell) <= MAX_CELL_WIDTH) return cell;
  // Long cells are plain text (ids, names, tasks): clip by characters, colour is not kept.
  return [...cell.replace(SGR, '')].slice(0, MAX_CELL_WIDTH - 1).join('') + '…';
}

/** Lays out a header and rows; the last column is not padded (no trailing spaces). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((row) => row.map(clip));
  const widths = header.map((_, column) => Math.max(...all.map((row) => width(row[column] ?? ''))));
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - width(cell))))
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}
