// Colours for human output: only on a TTY and never when NO_COLOR is set (no-color.org).
// Styling only wraps text in SGR codes; it never changes the text itself.

import type { SessionState } from '../../protocol/sessionTypes.js';

export interface Styler {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  magenta(text: string): string;
}

/** no-color.org: any non-empty NO_COLOR turns colours off. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

export function styler(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Styler {
  const enabled = colorEnabled(stream, env);
  const sgr =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    magenta: sgr(35, 39),
  };
}

/** A state name coloured by what it asks of the reader: green ready, yellow working, magenta needs you, red broken. */
export function styleState(state: SessionState, style: Styler): string {
  switch (state) {
    case 'ready':
    case 'idle':
      return style.green(state);
    case 'busy':
    case 'initializing':
    case 'authenticating':
      return style.yellow(state);
    case 'waiting_input':
      return style.magenta(state);
    case 'error':
      return style.red(state);
    case 'terminating':
    case 'terminated':
      return style.dim(state);
  }
}
