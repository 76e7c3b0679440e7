// What a session holding a scoped token may start: sessions of its own task only, in its own cwd (or below), and
// never with less of a sandbox than its own (no `sandbox: "none"`, no network when it has none, no binds outside its
// cwd). A request that asks for more is refused with TOKEN_SCOPE (recorded as an event) and starts nothing.

import { CorralError } from '../../protocol/errors.js';
import type { CreateSessionRequest } from '../../protocol/api.js';
import type { SessionSandbox } from '../../protocol/sessionTypes.js';
import type { CwdPolicy } from '../security/cwdPolicy.js';
import { isWithin } from '../sandbox/sandboxPlan.js';
import type { TokenScope } from './ScopedTokens.js';

export interface ScopedParent {
  cwd: string;
  sandbox: SessionSandbox;
}

/** `refuse` records the refusal and returns the TOKEN_SCOPE error to throw. */
export function confineCreate(
  request: CreateSessionRequest,
  scope: TokenScope,
  parent: ScopedParent | undefined,
  cwdPolicy: CwdPolicy,
  refuse: (message: string, target: string | null) => CorralError,
): CreateSessionRequest {
  if (parent === undefined) throw refuse('The session this token belongs to has ended.', scope.sessionId);
  if (scope.taskId === null) {
    throw refuse(`Session ${scope.sessionId} has no task, so its token cannot start sessions (start it with a taskId).`, null);
  }
  if (request.taskId !== undefined && request.taskId !== scope.taskId) {
    throw refuse(`This token may start sessions of task ${scope.taskId} only, not ${request.taskId}.`, request.taskId);
  }
  const cwd = request.cwd === undefined ? parent.cwd : cwdPolicy.resolve(request.cwd);
  if (!isWithin(cwd, parent.cwd)) throw refuse(`This token may start sessions in ${parent.cwd} (or below) only, not ${cwd}.`, null);
  let sandbox = request.sandbox;
  if (parent.sandbox.mode === 'bwrap') {
    const parentNetwork = parent.sandbox.network;
    if (sandbox === 'none') throw refuse('A sandboxed session cannot start a session without a sandbox.', null);
    if (sandbox === undefined) sandbox = { network: parentNetwork };
    if (parentNetwork === 'none' && (sandbox.network ?? 'full') === 'full') {
      throw refuse('A session without network cannot start one with network.', null);
    }
    for (const bind of sandbox.binds ?? []) {
      const real = cwdPolicy.resolve(bind.path);
      if (!isWithin(real, parent.cwd)) throw refuse(`Sandbox binds of this token must lie in ${parent.cwd}.`, null);
    }
  }
  return { ...request, taskId: scope.taskId, cwd, ...(sandbox === undefined ? {} : { sandbox }) };
}
