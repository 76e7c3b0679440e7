// The door's rules for node-to-node requests (src/server/auth.ts): the cluster token lets a node act for the caller
// it names; without it (or with the client's token in its place) nobody may name a caller; a daemon with no cluster
// token takes neither header.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CALLER_HEADER, CLUSTER_TOKEN_HEADER, callerHeaderOf, checkToken, doorRequestOf, type DoorPolicy, type Principal } from '../../src/server/auth.js';
import { isCorralError } from '../../src/protocol/errors.js';

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
