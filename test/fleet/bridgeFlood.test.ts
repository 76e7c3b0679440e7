// Issue 20: a 50 MiB flood through the WebSocket bridge with a stalled second client, on a real etcd and two real
// nodes: a session on C, both clients attached through A. The reader gets every byte at its own pace, byte-exact
// (against the generator and against C's own REST output); the stalled client is treated as a stalled client of a
// direct connection is (flow=isolate, test/server/ws/flowControl.test.ts): it falls behind on its own cursor and
// later gets the rest from the journal, or the heartbeat drops it; and neither daemon buffers for it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { becomeSubreaper, ownTree, reapAdoptedOrphans } from '../helpers/holderHarness.js';
import { startFleet, waitFor, type Fleet } from '../helpers/fleetHarness.js';
import { fixture } from '../helpers/fixtures.js';
import { TestSocket } from '../helpers/wsTestClient.js';
import type { DaemonHandle } from '../helpers/daemonHarness.js';
import type { NodesReply } from '../../src/protocol/apiReplies.js';
import type { OutputRead, SessionInfo } from '../../src/protocol/sessionTypes.js';
import { decodeOutputFrame } from '../../src/protocol/wsFrames.js';

const FLOOD = fixture('sequence-flood.mjs');
const FLOOD_BYTES = 50 * 1024 * 1024;
/** The fixture's record: "%015d|", record i is the number i. */
const RECORD = 16;
/**
 * Peak RSS the second flood may add over the first on C, the owner: generous, against a balloon. The sharp check of
 * the owner's window is the direct test's (test/server/ws/flowControl.test.ts, 40 MiB); here, with two floods' heap
 * growth on a loaded machine, C grew 15-41 MB (one socket window per client plus heap noise), so buffering the
 * stalled client's 50 MiB on top of that would exceed this.
 */
const MAX_OWNER_RSS_GROWTH_BYTES = 64 * 1024 * 1024;
/**
 * The same on A, the front door, which only splices sockets: two stream buffers a direction (under 1 MB measured).
 * A bridge that read on while the stalled client did not write held ~25 MB here: the rest of the 50 MiB sat in the
 * kernel's socket buffers (loopback autotunes a receive buffer up to tcp_rmem's 32 MiB), where a direct client's
 * unread bytes sit too.
 */
const MAX_BRIDGE_RSS_GROWTH_BYTES = 10 * 1024 * 1024;
/** REST reads of the output are capped at 4 MiB a page. */
const PAGE_BYTES = 4 * 1024 * 1024;

let fleet: Fleet;
let baseline: string[] = [];

before(async () => {
  becomeSubreaper();
  baseline = ownTree();
  fleet = await startFleet(['A', 'C']);
  await waitFor('both nodes up', async () => {
    const nodes = await daemon('A').request<NodesReply>('GET', '/api/v1/nodes');
    return nodes.status === 200 && nodes.body.nodes.length === 2 && nodes.body.nodes.every((node) => node.state === 'up') ? true : undefined;
  });
});

after(async () => {
  try {
    // Fails when a holder or session process of any node outlived its daemon (the harness kills it first).
    await fleet?.stop();
  } finally {
    await reapAdoptedOrphans(baseline);
  }
});

function daemon(name: string): DaemonHandle {
  return fleet.node(name).daemon;
}

/** The daemon's peak resident memory so far (VmHWM), in bytes. */
function peakRss(handle: DaemonHandle): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${handle.pid}/status`, 'utf8'));
  assert.ok(match?.[1] !== undefined);
  return Number(match[1]) * 1024;
}

/** What the fixture writes: `total` bytes of numbered records. */
function sequence(total: number): Buffer {
  const out = Buffer.alloc(total);
  for (let i = 0, at = 0; at < total; i++, at += RECORD) out.write(String(i).padStart(RECORD - 1, '0') + '|', at, 'latin1');
  return out;
}

/** A digest of every output byte `socket` receives (it must keep none itself: 50 MiB per client). */
function digestOf(socket: TestSocket): Hash {
  const hash = createHash('sha256');
  socket.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) hash.update(decodeOutputFrame(data).data);
  });
  return hash;
}

/** The digest of a session's raw output from `since` to `until`, read page by page from its own node's REST API. */
async function restDigest(from: DaemonHandle, id: string, since: number, until: number): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = since; offset < until; ) {
    const read = await from.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?since=${offset}&limit=${Math.min(until - offset, PAGE_BYTES)}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal(read.body.offset, offset, 'no bytes evicted');
    const data = Buffer.from(read.body.data, 'base64');
    if (data.length === 0) throw new Error(`output ends at ${offset}, before ${until}`);
    hash.update(data.subarray(0, until - offset));
    offset = read.body.nextOffset;
  }
  return hash.digest('hex');
}

/** A session on C that floods FLOOD_BYTES once it reads a line, then exits; attached to through A. */
async function floodOnC(): Promise<{ session: SessionInfo; url: string; headers: Record<string, string> }> {
  const reply = await daemon('A').request<SessionInfo>('POST', '/api/v1/sessions', {
    node: 'C',
    command: ['sh', '-c', `read go; exec "${process.execPath}" "${FLOOD}" ${FLOOD_BYTES}`],
    name: 'flood',
  });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  assert.equal(reply.body.node, 'C');
  return { session: reply.body, url: `ws://127.0.0.1:${fleet.node('A').port}/ws/sessions/${reply.body.id}`, headers: { authorization: `Bearer ${fleet.token}` } };
}

/** Reads a flood through the bridge to its exit: the whole stream the reader got (echoed "go" and the flood). */
async function readToTheEnd(reader: TestSocket): Promise<Buffer> {
  reader.send({ type: 'input', data: 'go\n' });
  const closed = await reader.closed;
  assert.equal(closed.code, 1000, `the reader was closed with ${closed.code} ${closed.reason}`);
  assert.equal(reader.texts.at(-1)?.type, 'exit', 'the exit frame came through the bridge after the last byte');
  assert.deepEqual(reader.textsOf('gap'), [], 'the reader missed nothing');
  const output = reader.output;
  assert.equal(output.length, reader.outputBytes);
  assert.ok(output.length >= FLOOD_BYTES, `the reader got ${output.length} bytes of ${FLOOD_BYTES}`);
  // Before the flood comes only the pty's echo of "go"; the flood is the fixture's bytes, in order, none missing.
  assert.ok(output.length - FLOOD_BYTES < 16, `${output.length - FLOOD_BYTES} bytes before the flood`);
  assert.ok(output.subarray(output.length - FLOOD_BYTES).equals(sequence(FLOOD_BYTES)), 'the flood arrived byte-exact');
  return output;
}

test('a 50 MiB flood through the bridge with a stalled second client: every byte to the reader, no daemon buffers for the stalled one', async (t) => {
  // First flood with the reader alone: brings C's engine (ring, journal batches, headless screen, heap) and A's bridge
  // to their steady flood footprint, so the second flood shows only what the stalled client costs.
  const warm = await floodOnC();
  await readToTheEnd(await TestSocket.open(warm.url, warm.headers));
  const warmPeak = { A: peakRss(daemon('A')), C: peakRss(daemon('C')) };

  const { session, url, headers } = await floodOnC();
  const stalled = await TestSocket.open(url, headers, { keepData: false });
  const stalledDigest = digestOf(stalled);
  try {
    // It stops reading its socket: its kernel buffers fill, then A's side of the bridge, then C's window for it.
    stalled.ws.pause();
    const reader = await TestSocket.open(url, headers);
    const output = await readToTheEnd(reader);
    // The reader got everything while the stalled client still held its first bytes unread: it never waited for it.
    assert.equal(stalled.outputBytes, 0, 'the stalled client read nothing meanwhile');
    // C's peak is taken before the REST read-back below, which has a footprint of its own (4 MiB pages in base64).
    const peakC = peakRss(daemon('C'));
    const start = reader.firstOffset as number;
    const end = reader.nextOffset as number;
    assert.equal(end - start, output.length);
    const outputDigest = createHash('sha256').update(output).digest('hex');
    assert.equal(outputDigest, await restDigest(daemon('C'), session.id, start, end), "byte-exact against C's own output");
    // A's after it: by then a bridge that ignored the stalled socket's backpressure would have taken in what C sends on
    // (C's window for that client keeps opening while A reads), and held it.
    const peak = { A: peakRss(daemon('A')), C: peakC };
    t.diagnostic(`peak RSS: A ${(warmPeak.A / 1e6).toFixed(1)} → ${(peak.A / 1e6).toFixed(1)} MB, C ${(warmPeak.C / 1e6).toFixed(1)} → ${(peak.C / 1e6).toFixed(1)} MB`);
    const grew = (name: 'A' | 'C'): string => `${name}'s peak RSS grew ${((peak[name] - warmPeak[name]) / 1e6).toFixed(1)} MB`;
    assert.ok(peak.A - warmPeak.A < MAX_BRIDGE_RSS_GROWTH_BYTES, grew('A'));
    assert.ok(peak.C - warmPeak.C < MAX_OWNER_RSS_GROWTH_BYTES, grew('C'));

    // Resumed, the stalled client continues from its own cursor: every byte (from C's journal), exactly what the reader
    // got; or C's heartbeat dropped it meanwhile (it answered no ping), which the bridge passes on as a dropped
    // connection. Both are what a direct client gets.
    stalled.ws.resume();
    const closed = await stalled.closed;
    if (closed.code === 1000) {
      assert.equal(stalled.firstOffset, start);
      assert.equal(stalled.nextOffset, end);
      assert.equal(stalled.texts.at(-1)?.type, 'exit');
      assert.equal(stalledDigest.digest('hex'), outputDigest, 'the stalled client got the same bytes');
    } else {
      assert.equal(closed.code, 1006, `the stalled client was dropped without a closing handshake, not closed with ${closed.code} ${closed.reason}`);
    }
    t.diagnostic(`the stalled client ${closed.code === 1000 ? 'caught up from the journal' : 'was dropped by the heartbeat'} (${stalled.outputBytes} bytes)`);
  } finally {
    // On a failure above: a client that reads nothing would hold C's shutdown for ws's 30 s closing handshake.
    stalled.ws.terminate();
  }
});
