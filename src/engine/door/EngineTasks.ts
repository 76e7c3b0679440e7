// engine.tasks: the sessions created under one taskId, found and ended together.

import { CorralError } from '../../protocol/errors.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import type { TaskReply } from '../engineTypes.js';
import type { SessionManager } from '../SessionManager.js';

/** Sessions a task listing looks at: a task has a handful of sessions, never hundreds. */
const TASK_PAGE = 100;

/** Tasks: the sessions created under one taskId. */
export class EngineTasks {
  constructor(private readonly manager: SessionManager) {}

  /** The task's sessions, the live one first; TASK_NOT_FOUND when none was ever created. */
  get(taskId: string): TaskReply {
    const { newest, sessions } = this.sessionsOf(taskId);
    const live = this.manager.liveSessionForTask(taskId);
    return { taskId, session: live?.toInfo() ?? newest, sessions };
  }

  /** Terminates (and cleans up) every live session of the task. */
  async end(taskId: string): Promise<{ taskId: string; ended: SessionInfo[] }> {
    this.sessionsOf(taskId);
    const ended = await Promise.all(
      this.manager
        .liveSessions()
        .filter((s) => s.spec.taskId === taskId)
        .map((s) => this.manager.terminate(s.id)),
    );
    return { taskId, ended };
  }

  private sessionsOf(taskId: string): { newest: SessionInfo; sessions: SessionInfo[] } {
    const { sessions } = this.manager.list({ taskId, limit: TASK_PAGE });
    const newest = sessions[0];
    if (newest === undefined) throw new CorralError('TASK_NOT_FOUND', `No session was ever created for task "${taskId}".`);
    return { newest, sessions };
  }
}
