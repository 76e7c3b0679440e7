// Proves PRODUCT §1.9 from inside real sessions of a real daemon (holder backend, bubblewrap): a sandboxed session
// cannot see the daemon's token, its data dir or another session's cwd, cannot write outside its cwd, can write in
// it; `sandbox: "none"` is an explicit opt-out shown in the info and logged; with no usable bubblewrap (simulated
// by pointing `--bwrap` at a path that does not exist) sandboxed sessions are refused with SANDBOX_UNAVAILABLE; a
// sandboxed program ended by a signal reports the signal (not bwrap's 128+n).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { createSession, listIds, waitForText } from '../helpers/coreSupport.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';

/** A sandboxed program on a loaded 2-core machine exits well within this. */
const EXIT_WAIT_MS = 60_000;

/** Runs `script` with /bin/sh in a pipe session of `body`'s shape; answers its stdout, stderr and info once it exited. */
async function runScript(daemon: DaemonHandle, script: string, body: Record<string, unknown>): Promise<{ stdout: string; stderr: string; info: SessionInfo }> {
  const session = await createSession(daemon, { kind: 'pipe', command: ['/bin/sh', '-c', script], ...body });
  const waited = await daemon.request<{ session: SessionInfo }>('POST', `/api/v1/sessions/${session.id}/wait`, { exit: true, timeoutMs: EXIT_WAIT_MS });
  assert.equal(waited.status, 200, JSON.stringify(waited.body));
  assert.notEqual(waited.body.session.exit, null, 'the script did not end');
  const read = async (stream: string): Promise<string> =>
    (await daemon.request<{ data: string }>('GET', `/api/v1/sessions/${session.id}/output?format=text&since=0&stream=${stream}`)).body.data;
  return { stdout: await read('stdout'), stderr: await read('stderr'), info: waited.body.session };
}

/** `name:<status>` lines a script printed after each attempt. */
function statuses(stdout: string): Record<string, number> {
  return Object.fromEntries([...stdout.matchAll(/^(\w+):(\d+)$/gm)].map((m) => [m[1] ?? '', Number(m[2])]));
}

test('inside a sandboxed session the token, the data dir and another session\'s cwd do not exist; only the cwd is writable', async () => {
  const daemon = await startDaemon();
  try {
    const mine = join(daemon.root, 'mine');
    const theirs = join(daemon.root, 'theirs');
    mkdirSync(mine);
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'secret.txt'), 'their-secret\n');
    // Another session working in `theirs`, live while this one looks for it.
    const other = await createSession(daemon, { kind: 'pipe', cwd: theirs, command: ['/bin/sleep', '1000'] });
    const script = [
      `cat '${daemon.dataDir}/token'; echo token:$?`,
      `ls '${daemon.dataDir}'; echo datadir:$?`,
      `cat '${theirs}/secret.txt'; echo othercwd:$?`,
      `ls /proc/${other.pid ?? 0}/cwd/; echo otherproc:$?`,
      `touch '${daemon.root}/escaped'; echo outside:$?`,
      `touch /usr/escaped; echo system:$?`,
      `touch /escaped; echo sandboxroot:$?`,
      `echo mine > '${mine}/written.txt'; echo owncwd:$?`,
      `cat /etc/hostname >/dev/null; echo systemread:$?`,
    ].join('\n');
    const { stdout, stderr, info } = await runScript(daemon, script, { cwd: mine, sandbox: {} });
    const got = statuses(stdout);
    assert.equal(info.sandbox?.mode, 'bwrap', JSON.stringify(info.sandbox));
    assert.ok(info.sandbox?.mode === 'bwrap' && info.sandbox.writable.includes(mine), 'the cwd is not listed as writable');
    assert.ok(!stdout.includes(daemon.token), 'the daemon token was readable inside the sandbox');
    assert.ok(!stdout.includes('their-secret'), "another session's cwd was readable");
    for (const name of ['token', 'datadir', 'othercwd', 'otherproc', 'outside', 'system', 'sandboxroot']) {
      assert.ok((got[name] ?? 0) !== 0, `${name} succeeded inside the sandbox: ${stdout} ${stderr}`);
    }
    // The errors are the clear ones: the paths are not there at all (or the system is read-only).
    assert.match(stderr, /token: No such file or directory/);
    assert.match(stderr, /Read-only file system/);
    assert.equal(got.owncwd, 0, stderr);
    assert.equal(got.systemread, 0, stderr);
    assert.equal(readFileSync(join(mine, 'written.txt'), 'utf8'), 'mine\n');
    assert.ok(!existsSync(join(daemon.root, 'escaped')));
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a root that holds the data dir: a session whose cwd contains it finds it masked', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-sandbox-')));
  const daemon = await startDaemon({ base, args: ['--root', base] });
  try {
    // The harness's data dir is <base>/data; a session in <base> (a root here) would see it without the mask.
    const { stdout } = await runScript(daemon, `cat '${daemon.dataDir}/token'; echo token:$?; ls '${daemon.dataDir}' | wc -l; echo listed:$?`, {
      cwd: daemon.base,
      sandbox: {},
    });
    assert.ok(!stdout.includes(daemon.token), 'the token was readable through the cwd');
    assert.notEqual(statuses(stdout).token, 0);
    assert.match(stdout, /^0$/m, 'the masked data dir is not empty');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a terminal session in a sandbox: exec between shell marks runs inside it, the token is absent and the cwd writable', async () => {
  const daemon = await startDaemon();
  try {
    const session = await createSession(daemon, { profile: 'shell', command: ['/bin/bash'], sandbox: { network: 'none' } });
    assert.deepEqual(session.sandbox?.mode === 'bwrap' ? session.sandbox.network : null, 'none');
    const exec = async (command: string): Promise<{ output: string; exitCode: number | null }> => {
      const reply = await daemon.request<{ output: string; exitCode: number | null }>('POST', `/api/v1/sessions/${session.id}/commands`, { command, timeoutMs: 30_000 });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      return reply.body;
    };
    const token = await exec(`cat '${daemon.dataDir}/token'`);
    assert.notEqual(token.exitCode, 0);
    assert.match(token.output, /No such file or directory/);
    assert.ok(!token.output.includes(daemon.token));
    assert.equal((await exec('echo written > own.txt && cat own.txt')).exitCode, 0);
    assert.equal(readFileSync(join(daemon.root, 'own.txt'), 'utf8'), 'written\n');
    // network "none": the daemon's own port on the host's loopback is out of reach.
    const port = new URL(daemon.url).port;
    const reach = await exec(`curl -s -m 5 -o /dev/null http://127.0.0.1:${port}/healthz`);
    assert.notEqual(reach.exitCode, 0, 'the host network was reachable with network "none"');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('sandbox "none" is an explicit opt-out, shown in the info and logged; a plain command has no sandbox unless asked', async () => {
  const daemon = await startDaemon();
  try {
    const optedOut = await runScript(daemon, 'echo ran', { sandbox: 'none' });
    assert.deepEqual(optedOut.info.sandbox, { mode: 'none', reason: 'opted-out' });
    const plain = await runScript(daemon, 'echo ran', {});
    assert.deepEqual(plain.info.sandbox, { mode: 'none', reason: 'not-requested' });
    assert.match(daemon.stderr(), new RegExp(`"session":"${optedOut.info.id}"[^\\n]*session runs without a sandbox: opted out`));
    // A template carries the policy too.
    assert.equal((await daemon.request('PUT', '/api/v1/templates/boxed', { kind: 'pipe', sandbox: { network: 'none' } })).status < 300, true);
    const templated = await runScript(daemon, 'echo ran', { template: 'boxed' });
    assert.equal(templated.info.sandbox?.mode, 'bwrap');
    // A bind outside the roots is refused before anything starts.
    const before = await listIds(daemon);
    const outside = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions', { command: ['/bin/true'], sandbox: { binds: [{ path: daemon.dataDir }] } });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error.code, 'SANDBOX_BIND_NOT_ALLOWED');
    assert.deepEqual(await listIds(daemon), before);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('without a usable bubblewrap (--bwrap names a missing file) the daemon says so and refuses sandboxed sessions with SANDBOX_UNAVAILABLE', async () => {
  // Simulated: this machine has bubblewrap, so the daemon is pointed at a path where none exists.
  const daemon = await startDaemon({ args: ['--bwrap', '/nonexistent/bwrap'] });
  try {
    assert.match(daemon.stderr(), /session sandboxes are unavailable/);
    const health = await daemon.request<{ details: { sandbox: { available: boolean; reason?: string } } }>('GET', '/healthz');
    assert.equal(health.body.details.sandbox.available, false);
    assert.match(health.body.details.sandbox.reason ?? '', /not installed at \/nonexistent\/bwrap/);
    const before = await listIds(daemon);
    const refused = await daemon.request<{ error: { code: string; message: string } }>('POST', '/api/v1/sessions', { command: ['/bin/true'], sandbox: {} });
    assert.equal(refused.status, 501);
    assert.equal(refused.body.error.code, 'SANDBOX_UNAVAILABLE');
    assert.deepEqual(await listIds(daemon), before, 'a refused sandboxed session left a record');
    // Agent profiles are sandboxed by default: refused too, never run unsandboxed.
    const agent = await daemon.request<{ error: { code: string } }>('POST', '/api/v1/sessions', { profile: 'claude', command: ['/bin/true'] });
    assert.equal(agent.body.error.code, 'SANDBOX_UNAVAILABLE');
    // What asks for no sandbox still runs.
    const plain = await runScript(daemon, 'echo ran', {});
    assert.equal(plain.stdout, 'ran\n');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('Ctrl-C reaches a sandboxed program that catches it, as without a sandbox, and the session lives on', async () => {
  const daemon = await startDaemon();
  try {
    const session = await createSession(daemon, {
      command: ['/bin/sh', '-c', 'trap "echo caught" INT; echo go; while :; do sleep 0.2; done'],
      sandbox: {},
    });
    await waitForText(daemon, session.id, 'go');
    assert.equal((await daemon.request('POST', `/api/v1/sessions/${session.id}/input`, { keys: ['C-c'] })).status, 200);
    await waitForText(daemon, session.id, 'caught');
    const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${session.id}`);
    assert.equal(info.body.exit, null, 'the sandbox ended with the Ctrl-C the program caught');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a sandboxed program ended by a signal reports the signal, as without a sandbox; one that exits with 128+n keeps its code', async () => {
  const daemon = await startDaemon();
  try {
    for (const kind of ['pipe', 'pty'] as const) {
      for (const sandbox of [{}, 'none'] as const) {
        const label = `${kind}, sandbox ${JSON.stringify(sandbox)}`;
        // A real process killed by a real signal: by itself (TERM, KILL) and by Ctrl-C from its terminal (INT).
        const killed = await runScript(daemon, 'kill -TERM $$; sleep 30', { kind, sandbox });
        assert.equal(killed.info.sandbox?.mode, sandbox === 'none' ? 'none' : 'bwrap', label);
        assert.deepEqual([killed.info.exit?.code, killed.info.exit?.signal], [null, 'SIGTERM'], label);
        const slain = await runScript(daemon, 'kill -KILL $$; sleep 30', { kind, sandbox });
        assert.deepEqual([slain.info.exit?.code, slain.info.exit?.signal], [null, 'SIGKILL'], label);
        // bwrap's own report of a SIGTERM death is exit code 143: a program that says 143 itself must keep it.
        const coded = await runScript(daemon, 'exit 143', { kind, sandbox });
        assert.deepEqual([coded.info.exit?.code, coded.info.exit?.signal], [143, null], label);
      }
    }
    // The init's binary and its report file reach it as descriptors the program never gets (it could forge its end).
    const fds = await runScript(daemon, 'ls /proc/$$/fd', { kind: 'pipe', sandbox: {} });
    assert.deepEqual(fds.stdout.split('\n').filter((fd) => Number(fd) > 2 && Number(fd) < 255), [], `descriptors the program inherited: ${fds.stdout}`);
    const session = await createSession(daemon, { command: ['/bin/sh', '-c', 'echo go; exec sleep 60'], sandbox: {} });
    await waitForText(daemon, session.id, 'go');
    assert.equal((await daemon.request('POST', `/api/v1/sessions/${session.id}/input`, { keys: ['C-c'] })).status, 200);
    const waited = await daemon.request<{ session: SessionInfo }>('POST', `/api/v1/sessions/${session.id}/wait`, { exit: true, timeoutMs: EXIT_WAIT_MS });
    assert.deepEqual([waited.body.session.exit?.code, waited.body.session.exit?.signal], [null, 'SIGINT']);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
