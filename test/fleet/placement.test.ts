// Placement is a pure function of the fleet's view: the most free slots among nodes that are up and match, ties by
// load then name; a named node or nothing; a catalog error that says why no node fits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeSession } from '../../src/fleet/placement.js';
import { parseClusterUrl } from '../../src/fleet/fleetOptions.js';
import type { NodeInfo } from '../../src/protocol/apiReplies.js';
import { isCorralError } from '../../src/protocol/errors.js';

function node(name: string, sessions: number | null, maxSessions: number | null, extra: Partial<NodeInfo> = {}): NodeInfo {
  return { name, url: `http://${name}:7433`, state: 'up', sessions, maxSessions, load: 0, freeMemoryBytes: 1e9, labels: {}, draining: false, updatedAt: null, ...extra };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isCorralError(error), String(error));
    return error.code;
  }
  assert.fail('expected a refusal');
}

test('the node with the most free slots wins, whatever its size', () => {
  assert.equal(placeSession([node('a', 5, 10), node('b', 1, 4), node('c', 10, 20)], {}), 'c');
  assert.equal(placeSession([node('a', 9, 10), node('b', 1, 4)], {}), 'b');
});

test('ties go to the less loaded machine, then by name', () => {
  assert.equal(placeSession([node('b', 1, 10, { load: 0.5 }), node('a', 1, 10, { load: 2 })], {}), 'b');
  assert.equal(placeSession([node('b', 1, 10), node('a', 1, 10)], {}), 'a');
});

test('draining, unreachable, full and never-published nodes take nothing', () => {
  const nodes = [
    node('a', 0, 10, { state: 'draining', draining: true }),
    node('b', 0, 10, { state: 'unreachable' }),
    node('c', 10, 10),
    node('d', null, null),
    node('e', 8, 10),
  ];
  assert.equal(placeSession(nodes, {}), 'e');
  assert.equal(refusal(() => placeSession(nodes.slice(0, 4), {})), 'NO_NODE_AVAILABLE');
  assert.equal(refusal(() => placeSession([], {})), 'NO_NODE_AVAILABLE');
});

test('a label selector keeps only the nodes that carry every label', () => {
  const nodes = [node('a', 0, 10, { labels: { gpu: 'no' } }), node('b', 5, 10, { labels: { gpu: 'yes', zone: 'x' } }), node('c', 6, 10, { labels: { gpu: 'yes' } })];
  assert.equal(placeSession(nodes, { selector: { gpu: 'yes' } }), 'b');
  assert.equal(placeSession(nodes, { selector: { gpu: 'yes', zone: 'x' } }), 'b');
  assert.equal(refusal(() => placeSession(nodes, { selector: { zone: 'y' } })), 'NO_NODE_AVAILABLE');
});

test('a named node is that node or a refusal saying why, never another', () => {
  const nodes = [node('a', 0, 10), node('b', 10, 10), node('c', 0, 10, { state: 'unreachable' }), node('d', 0, 10, { state: 'draining', draining: true })];
  assert.equal(placeSession(nodes, { node: 'a' }), 'a');
  assert.equal(refusal(() => placeSession(nodes, { node: 'b' })), 'NO_NODE_AVAILABLE');
  assert.equal(refusal(() => placeSession(nodes, { node: 'c' })), 'NODE_UNREACHABLE');
  assert.equal(refusal(() => placeSession(nodes, { node: 'd' })), 'NO_NODE_AVAILABLE');
  assert.equal(refusal(() => placeSession(nodes, { node: 'z' })), 'NODE_NOT_FOUND');
});

test('--cluster takes etcd://host:port lists and refuses anything else', () => {
  assert.deepEqual(parseClusterUrl('etcd://127.0.0.1:2379'), ['127.0.0.1:2379']);
  assert.deepEqual(parseClusterUrl('etcd://a:2379,b.example:2380'), ['a:2379', 'b.example:2380']);
  assert.throws(() => parseClusterUrl('etcd://'), /no endpoint/);
  assert.throws(() => parseClusterUrl('etcd://a'), /HOST:PORT/);
  assert.throws(() => parseClusterUrl('etcd://a:2379/path'), /HOST:PORT/);
});
