// The cursor of the session list (`GET /sessions?cursor=`): the (createdAt, id) key of the last session of a page,
// opaque to clients (base64url of the JSON pair). The list is ordered by that key, newest first, so the next page is
// every session below it: a key that means the same on every daemon, which is how a fleet's merged list pages with
// the same cursor as one node (src/fleet/fleetCursor.ts). Plain ECMAScript (no Buffer): src/protocol runs anywhere.

import { CorralError } from './errors.js';

export interface SessionKey {
  createdAt: string;
  id: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function encodeSessionCursor(key: SessionKey): string {
  return toBase64url(utf8Bytes(JSON.stringify([key.createdAt, key.id])));
}

/** The key a cursor carries; BAD_REQUEST for anything encodeSessionCursor did not make. */
export function decodeSessionCursor(cursor: string): SessionKey {
  const invalid = (cause?: unknown): CorralError =>
    new CorralError('BAD_REQUEST', 'Invalid cursor: pass the nextCursor of a previous page unchanged.', { cause });
  const bytes = fromBase64url(cursor);
  if (bytes === undefined) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Text(bytes));
  } catch (error) {
    // Expected: a cursor that was not produced by encodeSessionCursor (not UTF-8, or not JSON).
    if (error instanceof SyntaxError || error instanceof URIError) throw invalid(error);
    throw error;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== 'string' || typeof id !== 'string') throw invalid();
  return { createdAt, id };
}

/** The list's order, newest first: createdAt, then id, both descending (compared as SQLite compares them). */
export function compareSessionKeys(a: SessionKey, b: SessionKey): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return 0;
}

/** UTF-8 through the URI functions (the only UTF-8 codec plain ECMAScript has). */
function utf8Bytes(text: string): number[] {
  const escaped = encodeURIComponent(text);
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === '%') {
      bytes.push(parseInt(escaped.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(escaped.charCodeAt(i));
    }
  }
  return bytes;
}

/** Throws URIError for bytes that are not UTF-8. */
function utf8Text(bytes: number[]): string {
  return decodeURIComponent(bytes.map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''));
}

function toBase64url(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a = 0, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const chunk = (a << 16) | (b << 8) | c;
    const chars = i + 1 >= bytes.length ? 2 : i + 2 >= bytes.length ? 3 : 4;
    for (let k = 0; k < chars; k++) out += ALPHABET[(chunk >> (18 - 6 * k)) & 63];
  }
  return out;
}

/** The bytes of unpadded (or padded) base64url text; undefined for anything else. */
function fromBase64url(text: string): number[] | undefined {
  const body = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i += 4) {
    const group = body.slice(i, i + 4);
    let chunk = 0;
    for (let k = 0; k < 4; k++) chunk = (chunk << 6) | (k < group.length ? ALPHABET.indexOf(group[k] as string) : 0);
    bytes.push((chunk >> 16) & 255);
    if (group.length > 2) bytes.push((chunk >> 8) & 255);
    if (group.length > 3) bytes.push(chunk & 255);
  }
  return bytes;
}
