// The door's rules for node-to-node requests (src/server/auth.ts): the cluster token lets a node act for the caller
// it names; without it (or with the client's token in its place) nobody may name a caller; a daemon with no cluster
// token takes neither header.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CALLER_HEADER, CLUSTER_TOKEN_HEADER, callerHeaderOf, checkToken, doorRequestOf, resolveFleetToken, type DoorPolicy, type Principal } from '../../src/server/auth.js';
import { isCorralError } from '../../src/protocol/errors.js';
import { AUTH_FAILURE_BURST, AuthFailureLimiter } from '../../src/server/authFailures.js';

const CLIENT = 'client-token-0123456789abcdefghijklmnop';
const CLUSTER = 'cluster-token-0123456789abcdefghijklmno';
const fleetDoor: DoorPolicy = { token: CLIENT, clusterToken: CLUSTER, allowedHosts: new Set(), allowedOrigins: new Set() };
const singleDoor: DoorPolicy = { token: CLIENT, allowedHosts: new Set(), allowedOrigins: new Set() };

function principal(policy: DoorPolicy, headers: Record<string, string>): Principal | string {
  try {
    return checkToken(policy, doorRequestOf(headers, '/api/v1/sessions'), () => false);
  } catch (error) {
    assert.ok(isCorralError(error));
    return error.code;
  }
}

test('a node with the cluster token acts for the caller it names: the owner, or a session\'s scope', () => {
  assert.deepEqual(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: CLUSTER }), { kind: 'owner' });
  assert.deepEqual(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: 'owner' }), { kind: 'owner' });
  const scoped: Principal = { kind: 'scoped', scope: { sessionId: 's_1', taskId: 't-1' } };
  assert.deepEqual(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: callerHeaderOf(scoped) }), scoped);
  assert.equal(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: 'scoped !!' }), 'UNAUTHORIZED');
});

test('no one else may name a caller, and the client token is not the cluster token', () => {
  assert.equal(principal(fleetDoor, { authorization: `Bearer ${CLIENT}`, [CALLER_HEADER]: 'owner' }), 'UNAUTHORIZED');
  assert.equal(principal(fleetDoor, { [CALLER_HEADER]: 'owner' }), 'UNAUTHORIZED');
  assert.equal(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: CLIENT }), 'UNAUTHORIZED');
  assert.equal(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: 'wrong', authorization: `Bearer ${CLIENT}` }), 'UNAUTHORIZED');
  assert.deepEqual(principal(fleetDoor, { authorization: `Bearer ${CLIENT}` }), { kind: 'owner' });
});

test('a daemon that is not in a fleet takes neither header', () => {
  assert.equal(principal(singleDoor, { [CLUSTER_TOKEN_HEADER]: CLUSTER }), 'UNAUTHORIZED');
  assert.equal(principal(singleDoor, { authorization: `Bearer ${CLIENT}`, [CALLER_HEADER]: 'owner' }), 'UNAUTHORIZED');
  assert.deepEqual(principal(singleDoor, { authorization: `Bearer ${CLIENT}` }), { kind: 'owner' });
});

test("a session's token of another node: the door takes it as that node's finds it; the node it is sent to judges the hash", async () => {
  const scope = { sessionId: 's_c', taskId: 't-c' };
  const token = `cst_${'x'.repeat(43)}`;
  const hash = createHash('sha256').update(token).digest('hex');
  let lookups = 0;
  // The front: etcd (here a map) says the token is node C's.
  const front: DoorPolicy = {
    ...fleetDoor,
    scopedToken: () => undefined,
    fleetTokens: {
      known: (given) => (given === token && lookups > 0 ? { node: 'C', hash, scope } : undefined),
      resolve: async () => {
        lookups++;
      },
    },
  };
  const request = doorRequestOf({ authorization: `Bearer ${token}` }, '/api/v1/sessions');
  assert.equal(principal(front, { authorization: `Bearer ${token}` }), 'UNAUTHORIZED', 'not looked up yet: unknown');
  await resolveFleetToken(front, request);
  const found = checkToken(front, request, () => false);
  assert.deepEqual(found, { kind: 'scoped', scope, via: { node: 'C', hash, scope } });
  // What goes to C: the hash, never the token.
  assert.equal(callerHeaderOf(found), `token ${hash}`);
  // Neither the owner's token nor a request from a node is looked up.
  await resolveFleetToken(front, doorRequestOf({ authorization: `Bearer ${CLIENT}` }, '/'));
  await resolveFleetToken(front, doorRequestOf({ authorization: `Bearer ${token}`, [CLUSTER_TOKEN_HEADER]: CLUSTER }, '/'));
  assert.equal(lookups, 1);
  // C: the hash of a token of its live session is that session's scope; any other hash (an ended session's) is refused.
  const owner: DoorPolicy = { ...fleetDoor, scopedTokenHash: (given) => (given === hash ? scope : undefined) };
  assert.deepEqual(principal(owner, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: `token ${hash}` }), { kind: 'scoped', scope });
  assert.equal(principal(owner, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: `token ${'0'.repeat(64)}` }), 'UNAUTHORIZED');
  assert.equal(principal(owner, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: `token ${token}` }), 'UNAUTHORIZED', 'a token where its hash belongs');
  assert.equal(principal(owner, { [CALLER_HEADER]: `token ${hash}` }), 'UNAUTHORIZED', 'only from a node');
  assert.equal(principal(fleetDoor, { [CLUSTER_TOKEN_HEADER]: CLUSTER, [CALLER_HEADER]: `token ${hash}` }), 'UNAUTHORIZED', 'a node with no such session');
});

test('made-up tokens from a peer over its wrong-token budget are answered 429 without a fleet lookup (no etcd read each)', async () => {
  let lookups = 0;
  const door: DoorPolicy = {
    ...fleetDoor,
    scopedToken: () => undefined,
    failures: new AuthFailureLimiter(() => 0),
    fleetTokens: {
      known: () => undefined,
      resolve: async () => {
        lookups++;
      },
    },
  };
  const codes: string[] = [];
  for (let i = 0; i < AUTH_FAILURE_BURST + 10; i++) {
    const request = doorRequestOf({ authorization: `Bearer cst_made-up-${i}` }, '/api/v1/sessions', '10.0.0.9');
    await resolveFleetToken(door, request);
    try {
      checkToken(door, request, () => false);
    } catch (error) {
      assert.ok(isCorralError(error));
      codes.push(error.code);
    }
  }
  assert.equal(lookups, AUTH_FAILURE_BURST, 'looked up only while the peer was within its budget');
  assert.deepEqual([...new Set(codes)], ['UNAUTHORIZED', 'RATE_LIMITED']);
  // Another peer still gets its lookups.
  await resolveFleetToken(door, doorRequestOf({ authorization: 'Bearer cst_another' }, '/api/v1/sessions', '10.0.0.10'));
  assert.equal(lookups, AUTH_FAILURE_BURST + 1);
});
