// A session whose holder died while no daemon ran is found lost by the next daemon's start, before any face is
// attached: its `session.exited` must still reach the webhooks (issue 14: nothing is lost across a restart). A real
// daemon killed with kill -9, its session's holder and program killed after it, a receiver on 127.0.0.1, a restart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';
import { becomeSubreaper, ownTree, parentOf, reapAdoptedOrphans } from '../helpers/holderHarness.js';
import { isAlive } from '../../src/engine/process/ProcessIdentity.js';
import { createSession, identitiesOfPids } from '../helpers/coreSupport.js';

interface Delivered {
  type: string;
  sessionId?: string;
  data?: { exit?: { code: number | null; reason: string } };
}

let receiver: Server;
let url: string;
const delivered: Delivered[] = [];
let baseline: string[] = [];

before(async () => {
  // The killed daemon's holder re-parents to us, as it would to the next daemon's subreaper.
  becomeSubreaper();
  baseline = ownTree();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      delivered.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivered);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

after(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await reapAdoptedOrphans(baseline);
});

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; delivered: ${JSON.stringify(delivered.map((d) => [d.type, d.sessionId]))}`);
    await sleep(50);
  }
}

test('a session lost while no daemon ran: the restarted daemon\'s start ends it, and its session.exited reaches the webhooks', async () => {
  const first: DaemonHandle = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const hook = await first.request('POST', '/api/v1/webhooks', { url, events: ['session.exited'] });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const session = await createSession(first, { kind: 'pipe', command: ['/bin/sh', '-c', 'read -r line; exit 3'] });
    assert.ok(session.pid !== null);
    const [program] = identitiesOfPids(String(session.pid));
    assert.ok(program !== undefined);
    const holder = parentOf(session.pid);
    assert.ok(holder !== undefined && holder !== first.pid);
    const [holderIdentity] = identitiesOfPids(String(holder));
    assert.ok(holderIdentity !== undefined);
    await first.crash();
    process.kill(holder, 'SIGKILL');
    process.kill(session.pid, 'SIGKILL');
    await until('the holder and the program to be gone', () => !isAlive(program) && !isAlive(holderIdentity));

    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    await until('session.exited of the session that ended meanwhile', () => delivered.some((d) => d.type === 'session.exited' && d.sessionId === session.id));
    const exited = delivered.filter((d) => d.type === 'session.exited' && d.sessionId === session.id);
    assert.equal(exited.length, 1, 'delivered once');
    assert.equal(exited[0]?.data?.exit?.reason, 'lost');
  } finally {
    await stopLeavingNothing(first, second);
  }
});
