// engine.presets.macros: named step lists, kept through the PresetStore port, run on a session by id.

import type { MacroBody, MacroRunResult } from '../../protocol/api.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import { deleteMacro, getMacro, listMacros, putMacro, runMacro, type MacroRecord } from '../macros/macros.js';
import type { PresetStore } from '../ports.js';
import type { SessionManager } from '../SessionManager.js';

/** Macros: named step lists runnable on any session. */
export class EngineMacros {
  constructor(
    private readonly store: PresetStore,
    private readonly manager: SessionManager,
  ) {}

  list(): MacroRecord[] {
    return listMacros(this.store);
  }

  get(name: string): MacroRecord {
    return getMacro(this.store, name);
  }

  put(name: string, body: MacroBody): MacroRecord {
    return putMacro(this.store, name, body);
  }

  delete(name: string): void {
    deleteMacro(this.store, name);
  }

  /** Runs the macro's steps on a session; a result per step, the session's info after. */
  async run(sessionId: string, name: string, signal?: AbortSignal): Promise<MacroRunResult & { session: SessionInfo }> {
    const macro = getMacro(this.store, name);
    const session = this.manager.get(sessionId);
    return { ...(await runMacro(session, macro, signal)), session: session.toInfo() };
  }
}
