// The daemon's process-wide policy (issue 15): an uncaught exception or unhandled rejection is logged once per kind,
// counted in the health `/healthz` and the metrics read, and the process runs on; under CORRAL_FATAL_FAULTS=1 (set by
// the test runner) it exits 70 instead, so a test never passes over such a bug. A real node process throws for real.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FATAL_FAULTS_ENV } from '../../src/daemon/processFaults.js';
import { REPO_ROOT } from '../helpers/daemonHarness.js';

const SCRIPT = `
import { ProcessFaults } from ${JSON.stringify(join(REPO_ROOT, 'src', 'daemon', 'processFaults.ts'))};
const faults = new ProcessFaults((fields, message) => console.log(JSON.stringify({ message, ...fields })));
faults.install();
const failOnTimer = () => { throw Object.assign(new Error('scandir failed'), { code: 'EMFILE' }); };
setTimeout(failOnTimer, 0);
setTimeout(failOnTimer, 0);
setTimeout(() => void Promise.reject(new Error('nobody waited')), 0);
// Still running after all three: report what the health says, then end normally.
setTimeout(() => console.log(JSON.stringify({ health: faults.health() })), 20);
`;

function runScript(fatal: boolean): { status: number | null; lines: Record<string, unknown>[]; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'corral-faults-'));
  try {
    const file = join(dir, 'faults.ts');
    writeFileSync(file, SCRIPT);
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (fatal) env[FATAL_FAULTS_ENV] = '1';
    else delete env[FATAL_FAULTS_ENV];
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
    const lines = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { status: run.status, lines, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('uncaught exceptions and unhandled rejections are logged once per kind, counted, and the process runs on', () => {
  const { status, lines, stderr } = runScript(false);
  assert.equal(status, 0, stderr);
  const logged = lines.filter((line) => typeof line.kind === 'string');
  assert.deepEqual(
    logged.map((line) => [line.kind, line.code]),
    [
      ['uncaught exception', 'EMFILE'],
      ['unhandled rejection', 'Error'],
    ],
    'the second EMFILE from the same place is counted, not logged again',
  );
  assert.match(String(logged[0]?.stack), /failOnTimer/);
  const health = lines.find((line) => line.health !== undefined)?.health as { name: string; ok: boolean; totalFailures: number; lastError: { message: string } };
  assert.ok(health !== undefined, 'the process did not run on after the faults');
  assert.equal(health.name, 'uncaught errors');
  assert.equal(health.ok, false);
  assert.equal(health.totalFailures, 3);
  assert.equal(health.lastError.message, 'nobody waited');
});

test(`under ${FATAL_FAULTS_ENV}=1 the first uncaught exception ends the process with 70 and its stack`, () => {
  const { status, lines, stderr } = runScript(true);
  assert.equal(status, 70, stderr);
  assert.match(stderr, /uncaught exception: Error: scandir failed/);
  assert.equal(lines.some((line) => line.health !== undefined), false);
});
