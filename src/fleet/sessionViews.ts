// What the fleet shows of sessions beyond a node's own answers: the session objects in a reply (to stamp their node),
// the list filters applied to sessions known from elsewhere, and a forgotten node's sessions ended as lost.

import type { SessionInfo } from '../protocol/sessionTypes.js';

/** Session objects in a reply: the reply itself, its `session`, or its `sessions` / `ended` lists. */
export function sessionsIn(payload: unknown): SessionInfo[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const found: SessionInfo[] = [];
  const consider = (value: unknown): void => {
    if (typeof value === 'object' && value !== null && 'id' in value && 'state' in value && 'createdAt' in value && 'output' in value) found.push(value as SessionInfo);
  };
  consider(payload);
  const record = payload as Record<string, unknown>;
  consider(record.session);
  for (const list of [record.sessions, record.ended]) if (Array.isArray(list)) list.forEach(consider);
  return found;
}

export function matches(session: SessionInfo, query: { state?: string; taskId?: string; profile?: string; live?: 'true' | 'false' }): boolean {
  if (query.state !== undefined && session.state !== query.state) return false;
  if (query.taskId !== undefined && session.taskId !== query.taskId) return false;
  if (query.profile !== undefined && session.profile !== query.profile) return false;
  if (query.live !== undefined && (session.state !== 'terminated') !== (query.live === 'true')) return false;
  return true;
}

/** A forgotten node's session: ended as lost (one that had ended already keeps its own ending). */
export function asLost(session: SessionInfo, node: string): SessionInfo {
  const { reachable: _reachable, ...rest } = session;
  if (rest.state === 'terminated') return { ...rest, node };
  const at = new Date().toISOString();
  return {
    ...rest,
    node,
    state: 'terminated',
    stateReason: `node ${node} forgotten: lost`,
    stateSource: 'api',
    endedAt: at,
    exit: { code: null, signal: null, reason: 'lost', forced: false, at },
  };
}
