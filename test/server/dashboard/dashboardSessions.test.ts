// DashboardSessions: one-time login codes and browser sessions, with an injected clock (no waiting on time).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../src/store/Store.js';
import {
  DASHBOARD_SESSION_TTL_MS,
  DashboardSessions,
  LOGIN_CODE_TTL_MS,
  MAX_DASHBOARD_SESSIONS,
  MAX_PENDING_CODES,
} from '../../../src/server/dashboard/DashboardSessions.js';

function withClock(): { sessions: DashboardSessions; advance(ms: number): void } {
  let now = 1_000_000;
  return { sessions: new DashboardSessions(() => now), advance: (ms) => (now += ms) };
}

test('a login code works once, and not after it expires', () => {
  const { sessions, advance } = withClock();
  const first = sessions.mintCode();
  assert.ok(first.code.length >= 43, '256-bit codes');
  assert.equal(sessions.redeemCode(first.code), true);
  assert.equal(sessions.redeemCode(first.code), false, 'spent');
  const late = sessions.mintCode();
  advance(LOGIN_CODE_TTL_MS);
  assert.equal(sessions.redeemCode(late.code), false, 'expired');
  assert.equal(sessions.redeemCode('made-up'), false);
});

test('pending codes are bounded: the oldest is dropped first', () => {
  const { sessions } = withClock();
  const codes = Array.from({ length: MAX_PENDING_CODES + 1 }, () => sessions.mintCode().code);
  assert.equal(sessions.redeemCode(codes[0] ?? ''), false, 'the oldest was evicted');
  assert.equal(sessions.redeemCode(codes[MAX_PENDING_CODES] ?? ''), true);
});

test('a browser session is valid until it expires or is closed, and the count is bounded', () => {
  const { sessions, advance } = withClock();
  const one = sessions.openSession();
  const two = sessions.openSession();
  assert.notEqual(one.id, two.id);
  assert.equal(sessions.isValid(one.id), true);
  sessions.closeSession(one.id);
  assert.equal(sessions.isValid(one.id), false);
  advance(DASHBOARD_SESSION_TTL_MS);
  assert.equal(sessions.isValid(two.id), false);
  const ids = Array.from({ length: MAX_DASHBOARD_SESSIONS + 1 }, () => sessions.openSession().id);
  assert.equal(sessions.sessionCount, MAX_DASHBOARD_SESSIONS);
  assert.equal(sessions.isValid(ids[0] ?? ''), false);
  assert.equal(sessions.isValid(ids[MAX_DASHBOARD_SESSIONS] ?? ''), true);
});

test('with a store, a login outlives its DashboardSessions (a daemon restart); logout and expiry end it there too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-logins-'));
  let now = 1_000_000;
  const clock = (): number => now;
  let store = Store.open(dir);
  try {
    const first = new DashboardSessions(clock, store);
    const kept = first.openSession();
    const loggedOut = first.openSession();
    const expiring = first.openSession();
    first.closeSession(loggedOut.id);
    store.close();

    // A new daemon on the same data dir: a new store, a new DashboardSessions.
    store = Store.open(dir);
    const second = new DashboardSessions(clock, store);
    assert.equal(second.isValid(kept.id), true, 'the login survived the restart');
    assert.equal(second.isValid(loggedOut.id), false, 'a logout stays a logout');
    assert.equal(second.isValid('made-up'), false);
    assert.equal(second.sessionCount, 2);
    now += DASHBOARD_SESSION_TTL_MS;
    assert.equal(second.isValid(expiring.id), false, 'expired');
    store.close();

    store = Store.open(dir);
    const third = new DashboardSessions(clock, store);
    assert.equal(third.isValid(kept.id), false, 'an expired login does not come back');
    assert.equal(third.sessionCount, 0);
    assert.deepEqual(store.liveLogins(0), [], 'nothing of the expired logins is left in the store');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
