// `window.corralTerminal`: what tests (and the curious, from the console) can read of the open terminal.
// Must expose nothing the page does not already show, and only while its view is open.

import type { Terminal } from '@xterm/xterm';
import type { Disposable } from '../dom.js';
import type { TerminalPane } from './terminalPane.js';

export interface TerminalProbe {
  sessionId: string;
  text(): string;
  nextOffset(): number | null;
  bytesShown(): number;
  connects(): number;
  /** Closes the socket the way a network drop does; the usual reconnect follows. */
  drop(): void;
  size(): { cols: number; rows: number };
  selection(): string;
}

declare global {
  interface Window {
    corralTerminal?: TerminalProbe;
  }
}

/** Publishes the probe for `pane`; disposing removes it unless a newer view replaced it. */
export function installTerminalProbe(sessionId: string, pane: TerminalPane): Disposable {
  const { term, connection } = pane;
  window.corralTerminal = {
    sessionId,
    text: () => bufferText(term),
    nextOffset: () => connection.nextOffset,
    bytesShown: () => connection.bytesShown,
    connects: () => connection.connects,
    drop: () => connection.drop(),
    size: () => ({ cols: term.cols, rows: term.rows }),
    selection: () => term.getSelection(),
  };
  return {
    dispose: () => {
      if (window.corralTerminal?.sessionId === sessionId) delete window.corralTerminal;
    },
  };
}

function bufferText(term: Terminal): string {
  const buffer = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (line === undefined) continue;
    const text = line.translateToString(true);
    // A wrapped line continues the previous one: join them so long lines read as one.
    if (line.isWrapped && out.length > 0) out[out.length - 1] += text;
    else out.push(text);
  }
  return out.join('\n').replace(/\s+$/, '');
}
