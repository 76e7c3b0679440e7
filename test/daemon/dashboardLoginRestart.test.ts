// A dashboard login survives a daemon restart (issue 14): the browser session is in the store (a hash of the cookie,
// with its expiry), so neither kill -9 nor SIGTERM logs the browser out; a logout still ends it, restart or not.
// Real daemon processes, the real login link and cookie, as a browser uses them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SESSION_COOKIE } from '../../src/server/auth.js';
import { startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';

/** Spends a one-time login link as a browser would and answers the cookie it got. */
async function logIn(daemon: DaemonHandle): Promise<string> {
  const link = await daemon.request<{ path: string }>('POST', '/api/v1/auth/login-links');
  assert.equal(link.status, 201, JSON.stringify(link.body));
  const response = await fetch(daemon.url + link.body.path, { redirect: 'manual' });
  assert.equal(response.status, 303);
  const cookie = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(response.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie !== undefined, 'a session cookie');
  return cookie;
}

/** The status of a cookie-only API read (no bearer token). */
async function withCookie(daemon: DaemonHandle, cookie: string): Promise<number> {
  const response = await fetch(`${daemon.url}/api/v1/sessions`, { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
  await response.arrayBuffer();
  return response.status;
}

test('a dashboard login survives kill -9 and SIGTERM of the daemon; a logout survives the next restart', async () => {
  const first = await startDaemon();
  const later: DaemonHandle[] = [];
  const restart = async (previous: DaemonHandle): Promise<DaemonHandle> => {
    const next = await startDaemon({ dataDir: previous.dataDir, base: previous.base });
    later.push(next);
    return next;
  };
  try {
    const cookie = await logIn(first);
    const other = await logIn(first);
    assert.equal(await withCookie(first, cookie), 200);
    assert.equal(await withCookie(first, 'made-up'), 401);

    await first.crash();
    const second = await restart(first);
    assert.equal(await withCookie(second, cookie), 200, 'still logged in after kill -9');
    assert.equal(await withCookie(second, other), 200);

    assert.equal(await second.stop('keep-sessions'), 0);
    const third = await restart(second);
    assert.equal(await withCookie(third, cookie), 200, 'still logged in after SIGTERM');

    const logout = await fetch(`${third.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `${SESSION_COOKIE}=${cookie}`, 'x-corral-request': '1' },
    });
    assert.equal(logout.status, 303);
    assert.equal(await withCookie(third, cookie), 401, 'logged out');
    await third.crash();
    const fourth = await restart(third);
    assert.equal(await withCookie(fourth, cookie), 401, 'a logout stays a logout across a restart');
    assert.equal(await withCookie(fourth, other), 200, 'the other browser is still logged in');
  } finally {
    await stopLeavingNothing(first, ...later);
  }
});
