// Which backend runs which kind of session: the configured pty backend for terminals, child processes for pipes.
// With `sessionHost: 'holder'` both kinds run under holders. Tests and future backends (a remote node) pass their own.

import type { PtyBackendName, SessionHostName } from '../EngineConfig.js';
import { ChildProcessBackend } from './ChildProcessBackend.js';
import { HolderBackend } from './HolderBackend.js';
import { NativePtyBackend } from './NativePtyBackend.js';
import { NodePtyBackend } from './NodePtyBackend.js';
import type { ProcessBackend } from './ProcessBackend.js';

export interface SessionBackends {
  pty: ProcessBackend;
  pipe: ProcessBackend;
}

export interface BackendChoice {
  ptyBackend: PtyBackendName;
  sessionHost: SessionHostName;
  dataDir: string;
}

export function chooseBackends(choice: BackendChoice, overrides: Partial<SessionBackends> = {}): SessionBackends {
  const { ptyBackend, sessionHost, dataDir } = choice;
  if (sessionHost === 'holder') {
    // Manual acknowledgements: the session acknowledges once its journal has the bytes, and releases the holder
    // once its end is recorded, so a daemon crash at any moment loses no byte and no exit status.
    const holders = new HolderBackend({ dataDir, manualAcks: true });
    return { pty: overrides.pty ?? holders, pipe: overrides.pipe ?? holders };
  }
  return {
    pty: overrides.pty ?? (ptyBackend === 'node-pty' ? new NodePtyBackend() : new NativePtyBackend()),
    pipe: overrides.pipe ?? new ChildProcessBackend(),
  };
}
