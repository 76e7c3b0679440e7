// The session list's cursor (src/protocol/sessionCursor.ts), which one daemon and a fleet share, and the fleet's page
// merge (src/fleet/fleetCursor.ts): byte-for-byte the cursor a daemon always gave, malformed ones refused with one
// code, and nodes whose own pages are merged page after page give every session exactly once, in order, while a node
// stops answering (its sessions as last known) between pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSessionKeys, decodeSessionCursor, encodeSessionCursor, type SessionKey } from '../../src/protocol/sessionCursor.js';
import { mergePage, type PagePart } from '../../src/fleet/fleetCursor.js';
import { isCorralError } from '../../src/protocol/errors.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';

/** How the store encoded cursors before the codec moved to src/protocol (Buffer): old cursors must stay valid. */
function bufferCursor(key: SessionKey): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id]), 'utf8').toString('base64url');
}

test('the cursor is the base64url JSON pair a daemon always gave, and reads back what it carries', () => {
  const keys: SessionKey[] = [
    { createdAt: '2026-12-03T23:00:00.000Z', id: 's_abc' },
    { createdAt: '2026-12-03T23:00:00.001Z', id: 'a' },
    { createdAt: '', id: '' },
    { createdAt: 'x', id: 'ünïcode ✓ 𝄞' },
    { createdAt: '2026-01-01T00:00:00.000Z', id: 'ab' },
    { createdAt: '2026-01-01T00:00:00.000Z', id: 'abc' },
  ];
  for (const key of keys) {
    const cursor = encodeSessionCursor(key);
    assert.equal(cursor, bufferCursor(key), JSON.stringify(key));
    assert.deepEqual(decodeSessionCursor(cursor), key);
    // Padded, as some clients re-encode base64.
    assert.deepEqual(decodeSessionCursor(Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')), key);
  }
});

test('a malformed cursor is BAD_REQUEST, whatever is wrong with it', () => {
  const malformed = ['!', 'a', 'abc$', Buffer.from('not json').toString('base64url'), Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[1,2]').toString('base64url'), Buffer.from('["a"]').toString('base64url'), Buffer.from([0xff, 0xfe, 0x22]).toString('base64url')];
  for (const cursor of malformed) {
    assert.throws(() => decodeSessionCursor(cursor), (error: unknown) => isCorralError(error) && error.code === 'BAD_REQUEST', cursor);
  }
});

function session(node: string, createdAt: string, id: string): SessionInfo {
  return { id, createdAt, node } as unknown as SessionInfo;
}

/** A node's answer to `cursor` and `limit`, as its store gives it: its sessions below the key, newest first. */
function nodePage(all: SessionInfo[], after: SessionKey | null, limit: number): PagePart {
  const below = all.filter((s) => after === null || compareSessionKeys(s, after) > 0).sort(compareSessionKeys);
  return { sessions: below.slice(0, limit), more: below.length > limit };
}

test('merged pages give every session of every node exactly once, newest first, while a node stops answering', () => {
  // 3 nodes, 12 sessions, several created in the same millisecond on different nodes (ties broken by id).
  const nodes: Record<string, SessionInfo[]> = { A: [], B: [], C: [] };
  for (let i = 0; i < 12; i++) {
    const name = ['A', 'B', 'C'][i % 3] as string;
    const at = `2026-12-03T23:00:0${Math.floor(i / 4)}.000Z`;
    nodes[name]?.push(session(name, at, `s_${String.fromCharCode(97 + ((i * 7) % 12))}`));
  }
  const everything = Object.values(nodes).flat().sort(compareSessionKeys);
  const shown: SessionInfo[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const after = cursor === null ? null : decodeSessionCursor(cursor);
    // After the first page B stops answering: the fleet shows what it last knew of B, cut at the same key.
    const parts: PagePart[] = Object.entries(nodes).map(([name, all]) =>
      pages >= 1 && name === 'B' ? { sessions: all, more: false } : nodePage(all, after, 5));
    const page = mergePage(parts, after, 5);
    assert.ok(page.sessions.length <= 5);
    shown.push(...page.sessions);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(shown.map((s) => s.id), everything.map((s) => s.id));
  assert.equal(new Set(shown.map((s) => s.id)).size, 12);
});

test('a page says there is more when a node does, even if everything it sent fit', () => {
  const a = [session('A', '2026-01-01T00:00:02.000Z', 'a2'), session('A', '2026-01-01T00:00:01.000Z', 'a1')];
  const page = mergePage([{ sessions: a, more: true }, { sessions: [], more: false }], null, 2);
  assert.deepEqual(page.sessions.map((s) => s.id), ['a2', 'a1']);
  assert.deepEqual(decodeSessionCursor(page.nextCursor as string), { createdAt: '2026-01-01T00:00:01.000Z', id: 'a1' });
  const last = mergePage([{ sessions: a, more: false }, { sessions: [a[0] as SessionInfo], more: false }], null, 2);
  assert.equal(last.nextCursor, null, 'the same session from two sources counts once; nothing more anywhere');
  assert.equal(last.sessions.length, 2);
});
