// Where a new session goes: a pure function of the fleet's view, so it is tested without etcd or nodes.

import { CorralError } from '../protocol/errors.js';
import type { NodeInfo } from '../protocol/apiReplies.js';

export interface PlacementRequest {
  /** A node the caller named: that one or a refusal, never another. */
  node?: string;
  /** Labels a node must carry (all of them). */
  selector?: Record<string, string>;
}

/** Free slots of a node: max minus live; a node that never published counts as full. */
function room(node: NodeInfo): number {
  if (node.sessions === null || node.maxSessions === null) return 0;
  return node.maxSessions - node.sessions;
}

/**
 * The node with the most free slots among those up (not draining, not unreachable) that match the selector; ties go
 * to the least loaded machine, then by name so the choice is stable. Throws a catalog error that says why none fits.
 */
export function placeSession(nodes: readonly NodeInfo[], request: PlacementRequest): string {
  if (request.node !== undefined) {
    const named = nodes.find((node) => node.name === request.node);
    if (named === undefined) throw new CorralError('NODE_NOT_FOUND', `No node ${request.node} in the fleet (see GET /api/v1/nodes).`);
    if (named.state === 'unreachable') throw new CorralError('NODE_UNREACHABLE', `Node ${named.name} is not answering (its lease expired).`);
    if (named.state === 'draining') throw new CorralError('NO_NODE_AVAILABLE', `Node ${named.name} is draining: it takes no new sessions.`);
    if (room(named) <= 0) throw new CorralError('NO_NODE_AVAILABLE', `Node ${named.name} is full (${named.sessions ?? '?'} of ${named.maxSessions ?? '?'} sessions).`);
    return named.name;
  }
  const selector = Object.entries(request.selector ?? {});
  const matching = nodes.filter((node) => selector.every(([key, value]) => node.labels[key] === value));
  const open = matching.filter((node) => node.state === 'up' && room(node) > 0);
  if (open.length === 0) {
    const why = matching.length === 0 ? 'no node matches the selector' : 'every matching node is draining, unreachable or full';
    throw new CorralError('NO_NODE_AVAILABLE', `No node can take a new session: ${why}.`, { details: { nodes: matching.map(({ name, state }) => ({ name, state })) } });
  }
  const sorted = [...open].sort((a, b) => room(b) - room(a) || (a.load ?? 0) - (b.load ?? 0) || a.name.localeCompare(b.name));
  return (sorted[0] as NodeInfo).name;
}
