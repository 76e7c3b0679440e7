// The client's contract from a user's side: a script inside the checkout imports `corral/client` (package.json
// "exports", the built dist/), constructs it with { url, token }, creates and reads a session, runs a command, and
// catches refusals by the error catalog's code.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { assertClientBuilt, runScript, typecheckScript, writeCheckoutScript, type CheckoutScript } from '../helpers/checkoutScript.js';

const CONTRACT_SCRIPT = `import { Corral, CorralClientError } from 'corral/client';

const url = process.env.TEST_URL ?? '';
const token = process.env.TEST_TOKEN ?? '';
const cwd = process.cwd();
const corral = new Corral({ url, token });

const created = await corral.sessions.create({ command: ['sleep', '30'], kind: 'pipe', cwd });
const got = await corral.sessions.get(created.id);
const ran = await corral.exec({ command: 'echo out; echo err >&2; exit 3', cwd });

async function codeOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return null;
  } catch (error) {
    if (!(error instanceof CorralClientError)) throw error;
    return { code: error.code, status: error.status, name: error.name };
  }
}
const missing = await codeOf(() => corral.sessions.get('s_doesNotExist'));
const outsideRoot = await codeOf(() => corral.exec({ command: 'true', cwd: '/' }));
const badToken = await codeOf(() => new Corral({ url, token: 'wrong' }).sessions.list());
const ended = await corral.sessions.terminate(created.id);

console.log(JSON.stringify({
  created: { id: created.id, kind: created.kind, cwd: created.cwd, command: created.command },
  got: { id: got.id, state: got.state },
  ran: { stdout: ran.stdout, stderr: ran.stderr, exitCode: ran.exitCode, timedOut: ran.timedOut },
  missing,
  outsideRoot,
  badToken,
  ended: ended.state,
}));
`;

let daemon: DaemonHandle;
let script: CheckoutScript;

before(async () => {
  assertClientBuilt();
  script = writeCheckoutScript('contract.ts', CONTRACT_SCRIPT);
  daemon = await startDaemon();
});

after(async () => {
  script?.dispose();
  await daemon?.stop();
  daemon?.cleanup();
});

test('a script importing corral/client type-checks against the types package.json exports', async () => {
  const result = await typecheckScript(script.path);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test('a script creates and reads a session, runs a command and catches refusals by catalog code', async () => {
  const result = await runScript(script.path, { cwd: daemon.root, env: { TEST_URL: daemon.url, TEST_TOKEN: daemon.token } });
  assert.equal(result.code, 0, result.stderr);
  const out = JSON.parse(result.stdout) as {
    created: { id: string; kind: string; cwd: string; command: string[] };
    got: { id: string; state: string };
    ran: unknown;
    missing: unknown;
    outsideRoot: unknown;
    badToken: unknown;
    ended: string;
  };
  assert.match(out.created.id, /^s_/);
  // argv[0] comes back resolved through PATH (/usr/bin/sleep).
  assert.deepEqual(out.created, { id: out.created.id, kind: 'pipe', cwd: daemon.root, command: [out.created.command[0], '30'] });
  assert.match(out.created.command[0] ?? '', /(^|\/)sleep$/);
  assert.equal(out.got.id, out.created.id);
  assert.notEqual(out.got.state, 'terminated');
  assert.deepEqual(out.ran, { stdout: 'out\n', stderr: 'err\n', exitCode: 3, timedOut: false });
  assert.deepEqual(out.missing, { code: 'SESSION_NOT_FOUND', status: 404, name: 'CorralClientError' });
  assert.deepEqual(out.outsideRoot, { code: 'CWD_NOT_ALLOWED', status: 400, name: 'CorralClientError' });
  assert.deepEqual(out.badToken, { code: 'UNAUTHORIZED', status: 401, name: 'CorralClientError' });
  assert.equal(out.ended, 'terminated');
});
