// The README's TypeScript example, exactly as printed, run from a script inside the checkout against a real daemon:
// if the example or the client it shows drifts, this fails.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { assertClientBuilt, runScript, typecheckScript, writeCheckoutScript, type CheckoutScript } from '../helpers/checkoutScript.js';

/** The first ```ts block under "## Using it" that imports corral/client. */
function readmeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Using it');
  assert.notEqual(start, -1, 'README has a "## Using it" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const block = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((code) => code.includes("from 'corral/client'"));
  assert.ok(block !== undefined, 'the "Using it" section has a ts example importing corral/client');
  return block;
}

let daemon: DaemonHandle;
let script: CheckoutScript;

before(async () => {
  assertClientBuilt();
  script = writeCheckoutScript('readme-example.ts', readmeExample());
  daemon = await startDaemon();
});

after(async () => {
  script?.dispose();
  await daemon?.stop();
  daemon?.cleanup();
});

test('the README client example type-checks against the published types', async () => {
  const result = await typecheckScript(script.path);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test('the README client example runs against a daemon and prints what its comments say', async () => {
  // Found the way the example says: CORRAL_URL + CORRAL_TOKEN; run in the daemon's root so process.cwd() is allowed.
  const result = await runScript(script.path, { cwd: daemon.root, env: { CORRAL_URL: daemon.url, CORRAL_TOKEN: daemon.token } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'hello 0\nSESSION_NOT_FOUND\n');
  // The example ends the session it started (and its exec ended on its own): nothing is left running.
  const { body } = await daemon.request<{ sessions: { id: string; command: string[] }[] }>('GET', '/api/v1/sessions?live=true');
  assert.deepEqual(body.sessions, []);
});
