// How the CLI names a session: its full id, its name, or a unique prefix of its id (`corral attach mydev`,
// `corral show s_xXp`). A full id goes to the daemon as is; anything else is looked up in the session list, and
// a name or prefix that fits none, or more than one, is refused with a stable code and the candidates.

import type { Corral } from '../client/Corral.js';
import { CorralClientError } from '../client/CorralClientError.js';
import type { SessionInfo } from '../protocol/sessionTypes.js';

/** A full session id: `s_` and 22 base64url characters (16 random bytes). */
const FULL_ID = /^s_[A-Za-z0-9_-]{22}$/;
/** Pages of the session list a lookup reads (1,000 sessions each): far beyond what a person names by hand. */
const MAX_PAGES = 10;
const PAGE_SIZE = 1000;
/** Candidates an ambiguity error lists. */
const MAX_LISTED = 10;

export async function resolveSessionRef(api: Corral, ref: string): Promise<string> {
  if (FULL_ID.test(ref)) return ref;
  const sessions = await listSessions(api);
  const named = sessions.filter((s) => s.name === ref);
  // Names repeat over time (a `dev` shell every day): a live one wins over ended ones of the same name.
  const liveNamed = named.filter((s) => s.state !== 'terminated');
  const byName = liveNamed.length > 0 ? liveNamed : named;
  if (byName.length === 1) return (byName[0] as SessionInfo).id;
  if (byName.length > 1) throw ambiguous(ref, 'name', byName);
  const byPrefix = sessions.filter((s) => s.id.startsWith(ref));
  if (byPrefix.length === 1) return (byPrefix[0] as SessionInfo).id;
  if (byPrefix.length > 1) throw ambiguous(ref, 'id prefix', byPrefix);
  throw new CorralClientError(
    'SESSION_NOT_FOUND',
    `No session "${ref}": not an id, a session name or the start of an id (corral ls lists them).`,
    404,
    { ref },
  );
}

async function listSessions(api: Corral): Promise<SessionInfo[]> {
  const all: SessionInfo[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const reply = await api.sessions.list({ limit: PAGE_SIZE, cursor });
    all.push(...reply.sessions);
    if (reply.nextCursor === null) break;
    cursor = reply.nextCursor;
  }
  return all;
}

function ambiguous(ref: string, by: string, candidates: SessionInfo[]): CorralClientError {
  const listed = candidates
    .slice(0, MAX_LISTED)
    .map((s) => `${s.id}${s.name === null ? '' : ` (${s.name})`} ${s.state}`)
    .join(', ');
  const more = candidates.length > MAX_LISTED ? ` and ${candidates.length - MAX_LISTED} more` : '';
  return new CorralClientError(
    'SESSION_AMBIGUOUS',
    `"${ref}" matches ${candidates.length} sessions by ${by}: ${listed}${more}. Give more of the id.`,
    400,
    { ref, candidates: candidates.slice(0, MAX_LISTED).map((s) => s.id) },
  );
}
