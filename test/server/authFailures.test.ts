// The per-peer budget of wrong tokens and the connection caps, on a clock the test moves (the daemon-level
// behaviour is in doorUnderLoad.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_FAILURE_BURST, AUTH_FAILURE_REFILL_MS, AuthFailureLimiter, MAX_TRACKED_PEERS } from '../../src/server/authFailures.js';
import { connectionLimits, MAX_CONNECTIONS, MIN_CONNECTIONS } from '../../src/server/ConnectionGuard.js';

test('a peer gets a burst of wrong tokens, then 429 with the seconds until its next try; others are not affected', () => {
  let now = 0;
  const limiter = new AuthFailureLimiter(() => now);
  for (let i = 0; i < AUTH_FAILURE_BURST; i++) assert.equal(limiter.fail('10.0.0.1'), 0, `failure ${i + 1} is within the burst`);
  const retry = limiter.fail('10.0.0.1');
  assert.equal(retry, Math.ceil(AUTH_FAILURE_REFILL_MS / 1000));
  assert.equal(limiter.fail('10.0.0.2'), 0, 'another address has its own budget');
  now += AUTH_FAILURE_REFILL_MS;
  assert.equal(limiter.fail('10.0.0.1'), 0, 'one more try after one refill period');
  assert.ok(limiter.fail('10.0.0.1') > 0);
  assert.deepEqual(limiter.stats(), { refused: AUTH_FAILURE_BURST + 2, rateLimited: 2 });
});

test('the peers tracked are bounded: the least recently failing is forgotten', () => {
  const limiter = new AuthFailureLimiter(() => 0);
  for (let i = 0; i < AUTH_FAILURE_BURST; i++) limiter.fail('first');
  assert.ok(limiter.fail('first') > 0);
  for (let i = 0; i < MAX_TRACKED_PEERS; i++) limiter.fail(`peer-${i}`);
  assert.equal(limiter.fail('first'), 0, 'forgotten, so it starts over with a full burst');
});

test('connection caps are a share of the descriptor limit, within fixed bounds', () => {
  assert.deepEqual(connectionLimits(256), { maxConnections: 64, maxUnauthenticated: 16 });
  assert.deepEqual(connectionLimits(1024), { maxConnections: 448, maxUnauthenticated: 112 });
  assert.equal(connectionLimits(64).maxConnections, MIN_CONNECTIONS);
  assert.equal(connectionLimits(1 << 20).maxConnections, MAX_CONNECTIONS);
  assert.equal(connectionLimits(Infinity).maxConnections, MAX_CONNECTIONS);
});
