// engine.agents: agent sessions. The agent create (any agent profile) with its task worktree lives here, not in a face, so REST and
// MCP share one idempotent create; prompt and answer drive a session by id.

import type { AgentSessionRequest, AnswerRequest, ClaudeSessionRequest, PromptRequest } from '../../protocol/api.js';
import type { ConversationReply, DialogReply } from '../../protocol/apiReplies.js';
import { CorralError } from '../../protocol/errors.js';
import type { SessionInfo, SessionState } from '../../protocol/sessionTypes.js';
import { AgentService, type PromptResult } from '../agent/AgentService.js';
import type { CreateReply } from '../engineTypes.js';
import type { SessionManager } from '../SessionManager.js';

/** Agent sessions: the create with its task worktree (claude, codex, gemini, …), prompt and answer, per-profile stats. */
export class EngineAgents {
  constructor(private readonly manager: SessionManager) {}

  /** `POST /sessions/claude`: `POST /sessions/agent` with agent `claude`. */
  createClaude(body: ClaudeSessionRequest): Promise<CreateReply> {
    return this.create({ ...body, agent: 'claude' });
  }

  /**
   * `POST /sessions/agent`: an agent session of any agent profile, idempotent per taskId unless forceNew. With
   * `worktree`, a git worktree is made for the task first and the session runs in it; it is removed with the session
   * (unless `keep`), or at once if the session cannot start. The profile is checked before any worktree is made.
   */
  async create(body: AgentSessionRequest): Promise<CreateReply> {
    const profile = this.manager.profileRegistry.get(body.agent);
    if (profile.agent === undefined) {
      throw new CorralError('VALIDATION_FAILED', `Profile ${profile.name} is not an agent profile (stateDetection "agent" with an "agent" block); use POST /sessions for it.`, {
        details: { profile: profile.name },
      });
    }
    if (body.taskId !== undefined && body.forceNew !== true) {
      const existing = this.manager.liveSessionForTask(body.taskId);
      if (existing !== undefined) return { session: existing.toInfo(), existing: true };
    }
    const agents = this.manager.agents;
    const worktree = body.worktree;
    const path = worktree === undefined ? undefined : await agents.createWorktree({ ...worktree, keep: worktree.keep === true });
    try {
      const request = AgentService.agentRequest(body, path === undefined ? body.projectPath : undefined);
      // The manager adopts the worktree with the session's start (and records it with its holder for a restart).
      const made = worktree !== undefined && path !== undefined ? { repo: worktree.repo, path, keep: worktree.keep === true } : undefined;
      const { session, existing } = await this.manager.create(request, { cwd: path, ...(made === undefined ? {} : { worktree: made }) });
      return { session: session.toInfo(), existing };
    } catch (error) {
      // The session never started: the worktree made for it goes too.
      if (worktree !== undefined && path !== undefined) await agents.discardWorktree(worktree.repo, path);
      throw error;
    }
  }

  /** Submits a prompt (bracketed paste, submit key) and waits for the turn to end or a question. */
  async prompt(id: string, request: PromptRequest, signal?: AbortSignal): Promise<PromptResult> {
    return this.manager.agents.prompt(this.manager.get(id), request, signal);
  }

  /** Answers the dialog on the session's screen by option number or text. */
  async answer(
    id: string,
    request: AnswerRequest,
    signal?: AbortSignal,
  ): Promise<{ dialog: string; choice: string; state: SessionState; session: SessionInfo }> {
    return this.manager.agents.answer(this.manager.get(id), request, signal);
  }

  /** What the session asks now (the dialog on its screen, from the profile's patterns) and its agent's last reply. */
  async dialog(id: string): Promise<DialogReply> {
    const session = this.manager.find(id);
    if (session === undefined) return { state: this.manager.info(id).state, dialog: null, lastReply: null };
    return this.manager.agents.pendingDialog(session);
  }

  /**
   * The conversation: prompts and replies from the agent CLI's transcript, or (no transcript, or an ended session
   * only in the store) the prompts from the command history. SESSION_NOT_FOUND if unknown.
   */
  conversation(id: string, limit: number): ConversationReply {
    const session = this.manager.find(id);
    const fromTranscript = session === undefined ? null : this.manager.agents.conversation(session);
    if (fromTranscript !== null) return { ...fromTranscript, turns: fromTranscript.turns.slice(-limit) };
    this.manager.info(id);
    const prompts = this.manager.store.listCommands(id, { afterSeq: 0, limit: 10_000 }).filter((command) => command.kind === 'prompt');
    return { turns: prompts.slice(-limit).map((command) => ({ role: 'user', text: command.text, at: command.startedAt })), source: 'history' };
  }

  /** Live sessions of the profile by state, prompts, turn durations, errors, hooks; PROFILE_NOT_FOUND if unknown. */
  stats(profile: string): Record<string, unknown> {
    this.manager.profileRegistry.get(profile);
    return this.manager.agents.stats(this.manager.liveSessions(), profile);
  }
}
