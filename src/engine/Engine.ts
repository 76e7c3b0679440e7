// The engine's one front door: every face (REST, WebSocket, MCP, dashboard, metrics) calls this and nothing else
// of the engine. It answers protocol shapes (SessionInfo, OutputRead, ...), never engine objects, except the
// narrow LiveSession handle a streaming face needs. It knows nothing of HTTP, MCP or any transport. Each noun is a
// class of its own in src/engine/door/; this file builds them over one SessionManager and one store.

import type { Event } from '../common/lifecycle.js';
import type { EngineEvent } from '../protocol/events.js';
import type { ProcessBackend } from './backends/ProcessBackend.js';
import { EngineAgents } from './door/EngineAgents.js';
import { EngineMacros } from './door/EngineMacros.js';
import { EngineProfiles } from './door/EngineProfiles.js';
import { EngineSessions } from './door/EngineSessions.js';
import { EngineTasks } from './door/EngineTasks.js';
import { checkTemplate } from './templates/templateCheck.js';
import type { TemplateBody } from '../protocol/api.js';
import { EngineTemplates } from './door/EngineTemplates.js';
import { EngineTokens } from './door/EngineTokens.js';
import type { EngineConfig } from './EngineConfig.js';
import type { EngineStats } from './engineTypes.js';
import type { EngineStore } from './ports.js';
import type { EngineLogger } from './engineLogger.js';
import { SessionManager, type EngineHealth } from './SessionManager.js';

export interface EngineOptions {
  config: EngineConfig;
  store: EngineStore;
  log: EngineLogger;
  /** Replaces the PTY or pipe backend (tests, a future holder process). */
  backends?: { pty?: ProcessBackend; pipe?: ProcessBackend };
}

/** Methods that answer a promise report errors by rejecting it, never by throwing before it exists. */
export class Engine {
  private readonly manager: SessionManager;
  /** Created, state changed, exited, command finished: for every session, in order. */
  readonly onEvent: Event<EngineEvent>;
  readonly sessions: EngineSessions;
  readonly tasks: EngineTasks;
  readonly agents: EngineAgents;
  readonly presets: { readonly templates: EngineTemplates; readonly macros: EngineMacros };
  readonly profiles: EngineProfiles;
  /** Sessions' scoped tokens: resolve, and check a scoped caller's reach. */
  readonly tokens: EngineTokens;

  constructor(options: EngineOptions) {
    this.manager = new SessionManager(options.config, options.store, options.log, options.backends);
    this.onEvent = this.manager.onEvent;
    this.sessions = new EngineSessions(this.manager);
    this.tasks = new EngineTasks(this.manager);
    this.agents = new EngineAgents(this.manager);
    const manager = this.manager;
    const checkSaved = (name: string, body: TemplateBody): void =>
      checkTemplate({ profiles: manager.profileRegistry, cwdPolicy: manager.cwdPolicy, allowEnv: options.config.allowEnv }, name, body);
    this.presets = { templates: new EngineTemplates(options.store, checkSaved), macros: new EngineMacros(options.store, this.manager) };
    this.profiles = new EngineProfiles(this.manager);
    this.tokens = new EngineTokens(this.manager);
  }

  /** Becomes the subreaper, reattaches sessions left running under holders, ends the rest as lost, starts the samplers. */
  start(): Promise<{ subreaper: boolean; recovered: number; reattach: { reattached: number; lost: number; ms: number } }> {
    return this.manager.start();
  }

  /**
   * Stops accepting work and flushes the store. `endSessions` (the default): every session ends by the usual
   * escalation; false: sessions under holders keep running for the next start to reattach.
   */
  shutdown(options: { endSessions: boolean } = { endSessions: true }): Promise<void> {
    return this.manager.shutdown(options);
  }

  /** Whether the store takes writes and every background task runs (`/healthz` details); never touches the store. */
  health(): EngineHealth {
    return this.manager.health();
  }

  /** Sessions by state and profile, totals since start. */
  stats(): EngineStats {
    // SessionManager.stats() builds `totals` from its counters; its declared return type is the looser record.
    return this.manager.stats() as EngineStats;
  }
}
