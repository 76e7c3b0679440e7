// Named keys (PRODUCT §5) to the bytes a terminal sends for them. Imports neither Node nor DOM.

const NAMED: Record<string, string> = {
  Enter: '\r',
  Escape: '\x1b',
  Tab: '\t',
  Backspace: '\x7f',
  Delete: '\x1b[3~',
  Up: '\x1b[A',
  Down: '\x1b[B',
  Right: '\x1b[C',
  Left: '\x1b[D',
  Home: '\x1b[H',
  End: '\x1b[F',
  PageUp: '\x1b[5~',
  PageDown: '\x1b[6~',
  Space: ' ',
  F1: '\x1bOP',
  F2: '\x1bOQ',
  F3: '\x1bOR',
  F4: '\x1bOS',
  F5: '\x1b[15~',
  F6: '\x1b[17~',
  F7: '\x1b[18~',
  F8: '\x1b[19~',
  F9: '\x1b[20~',
  F10: '\x1b[21~',
  F11: '\x1b[23~',
  F12: '\x1b[24~',
};

/** The bytes for a named key, or undefined when the name is not one we know. */
export function keyToBytes(name: string): string | undefined {
  const named = NAMED[name];
  if (named !== undefined) return named;
  const ctrl = /^C-([a-z@[\\\]^_])$/i.exec(name);
  if (ctrl?.[1] !== undefined) {
    const ch = ctrl[1].toUpperCase();
    return String.fromCharCode(ch.charCodeAt(0) & 0x1f);
  }
  const meta = /^M-(.)$/su.exec(name);
  if (meta?.[1] !== undefined) return '\x1b' + meta[1];
  return undefined;
}

