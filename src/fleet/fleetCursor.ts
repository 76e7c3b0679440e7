// One page of the fleet's session list from the nodes' pages. The fleet pages with the same cursor as one daemon
// (src/store/sessionCursor.ts: the (createdAt, id) key of the last session shown), which means the same on every
// node: each node is asked for its sessions below the key, the answers are merged in that order, and the page's last
// key is the next cursor. Nothing in it names a node, so a cursor stays valid while nodes come, go or stop answering
// (an unreachable node's sessions as last known, a forgotten one's as lost, are cut at the same key), and every
// session falls on exactly one page.

import type { SessionPage } from '../protocol/apiReplies.js';
import type { SessionInfo } from '../protocol/sessionTypes.js';
import { compareSessionKeys, encodeSessionCursor, type SessionKey } from '../protocol/sessionCursor.js';

/** What one source gave for the page: a node's answer (`more`: it has sessions past what it sent), or a known list. */
export interface PagePart {
  sessions: SessionInfo[];
  more: boolean;
}

/** The newest `limit` sessions below `after` (the cursor's key; null for the first page), each once. */
export function mergePage(parts: PagePart[], after: SessionKey | null, limit: number): SessionPage {
  const seen = new Set<string>();
  const below = parts
    .flatMap((part) => part.sessions)
    .filter((session) => (after === null || compareSessionKeys(session, after) > 0) && !seen.has(session.id) && seen.add(session.id))
    .sort(compareSessionKeys);
  const sessions = below.slice(0, limit);
  const last = sessions[sessions.length - 1];
  const more = below.length > limit || parts.some((part) => part.more);
  return { sessions, nextCursor: more && last !== undefined ? encodeSessionCursor(last) : null };
}
