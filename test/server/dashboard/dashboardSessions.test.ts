// DashboardSessions: one-time login codes and browser sessions, with an injected clock (no waiting on time).

import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('with a file, browser logins outlive a restart (hashes only on disk); a logout or expiry is kept too', async () => {
  const { mkdtempSync, readFileSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'corral-logins-'));
  try {
    const file = join(dir, 'dashboard-logins.json');
    let now = 1_000_000;
    const first = new DashboardSessions(() => now, file);
    const kept = first.openSession().id;
    const dropped = first.openSession().id;
    first.closeSession(dropped);
    assert.ok(!readFileSync(file, 'utf8').includes(kept), 'the file holds hashes, never the cookie value');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = new DashboardSessions(() => now, file);
    assert.equal(second.isValid(kept), true, 'the login survived the restart');
    assert.equal(second.isValid(dropped), false, 'the logout survived too');
    now += DASHBOARD_SESSION_TTL_MS;
    assert.equal(new DashboardSessions(() => now, file).isValid(kept), false, 'expired logins are not restored');
    const warnings: string[] = [];
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{torn');
    assert.equal(new DashboardSessions(() => now, file, (m) => warnings.push(m)).sessionCount, 0);
    assert.equal(warnings.length, 1, 'a torn file is reported, and nobody is logged in');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
