// Which backend runs which kind of session: the configured pty backend for terminals, child processes for pipes.
// Tests and future backends (a holder process, a remote node) pass their own instead.

import type { PtyBackendName } from '../EngineConfig.js';
import { ChildProcessBackend } from './ChildProcessBackend.js';
import { NativePtyBackend } from './NativePtyBackend.js';
import { NodePtyBackend } from './NodePtyBackend.js';
import type { ProcessBackend } from './ProcessBackend.js';

export interface SessionBackends {
  pty: ProcessBackend;
  pipe: ProcessBackend;
}

export function chooseBackends(ptyBackend: PtyBackendName, overrides: Partial<SessionBackends> = {}): SessionBackends {
  return {
    pty: overrides.pty ?? (ptyBackend === 'node-pty' ? new NodePtyBackend() : new NativePtyBackend()),
    pipe: overrides.pipe ?? new ChildProcessBackend(),
  };
}
