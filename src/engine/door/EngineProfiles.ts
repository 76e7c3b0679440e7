// engine.profiles: the agent and command profiles loaded, as summaries a face can show.

import type { ProfileSummary } from '../engineTypes.js';
import type { SessionManager } from '../SessionManager.js';

/** The agent and command profiles loaded (built-ins, then the operator's). */
export class EngineProfiles {
  constructor(private readonly manager: SessionManager) {}

  list(): ProfileSummary[] {
    return this.manager.profileRegistry.list().map((p) => ({
      name: p.name,
      description: p.description,
      kind: p.kind,
      hasCommand: p.command.length > 0,
      agent: p.agent !== undefined,
    }));
  }
}
