import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startDaemon, corralCommand, REPO_ROOT, type DaemonHandle } from '../../helpers/daemonHarness.js';
import { startInProcessDaemon } from '../../helpers/inProcessDaemon.js';

interface Info {
  id: string;
  state: string;
  cols: number;
  env: Record<string, string>;
  labels: Record<string, string>;
}

async function cli(daemon: DaemonHandle, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { file, args: base } = corralCommand(false);
  const child = spawn(file, [...base, ...args, '--data-dir', daemon.dataDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

test('REST and CLI: exec, history surviving a restart, search and filtered lines, templates and macros end to end', async () => {
  let daemon = await startDaemon();
  const base = daemon.base;
  const dataDir = daemon.dataDir;
  try {
    // Templates: create, list, create a session from one (request fields win, env merges).
    const put = await daemon.request('POST', '/api/v1/templates', {
      name: 'sh-wide',
      description: 'bash, wide',
      profile: 'shell',
      command: ['/bin/bash', '-i'],
      cols: 150,
      env: { GREETING: 'hi', KEEP: '1' },
      labels: { from: 'template' },
    });
    assert.equal(put.status, 201);
    const created = await daemon.request<Info>('POST', '/api/v1/sessions', { template: 'sh-wide', env: { GREETING: 'hello' } });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assert.equal(created.body.cols, 150);
    assert.deepEqual(created.body.env, { GREETING: 'hello', KEEP: '1' });
    assert.equal(created.body.labels.from, 'template');
    assert.equal((await daemon.request('POST', '/api/v1/sessions', { template: 'nope' })).status, 404);

    // exec over REST.
    const exec = await daemon.request<{ output: string; exitCode: number; cwd: string; timedOut: boolean }>(
      'POST',
      `/api/v1/sessions/${id}/commands`,
      { command: 'echo "$GREETING"; for i in 1 2 3; do echo "row $i"; done; (exit 4)', timeoutMs: 15_000 },
    );
    assert.equal(exec.status, 200, JSON.stringify(exec.body));
    assert.equal(exec.body.output, 'hello\nrow 1\nrow 2\nrow 3\n');
    assert.equal(exec.body.exitCode, 4);

    // exec through the CLI: exit status 0/1, output on stdout.
    const ok = await cli(daemon, ['exec', id, 'echo cli-was-here']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'cli-was-here\n');
    assert.equal((await cli(daemon, ['exec', id, 'false'])).code, 1);

    // Line view with include/exclude, and search with byte offsets.
    const lines = await daemon.request<{ lines: { offset: number; text: string }[] }>(
      'GET',
      `/api/v1/sessions/${id}/lines?include=${encodeURIComponent('^row')}&exclude=${encodeURIComponent('2$')}`,
    );
    assert.deepEqual(lines.body.lines.map((l) => l.text), ['row 1', 'row 3']);
    const search = await daemon.request<{ matches: { offset: number; match: string; line: string }[] }>(
      'GET',
      `/api/v1/sessions/${id}/search?pattern=${encodeURIComponent('row \\d')}`,
    );
    assert.equal(search.body.matches.filter((m) => m.line === 'row 2').length, 1);
    const raw = await daemon.request<{ data: string }>('GET', `/api/v1/sessions/${id}/output?since=${search.body.matches.at(-1)?.offset ?? 0}&format=raw&encoding=utf8&limit=5`);
    assert.equal(raw.body.data, 'row 3');
    const cliSearch = await cli(daemon, ['search', id, 'cli-was']);
    assert.equal(cliSearch.code, 0);
    assert.match(cliSearch.stdout, /^\d+: cli-was-here$/m);

    // Macros: CRUD through the CLI, a run with per-step results, a clear failure when a wait times out.
    const set = await cli(daemon, [
      'macro',
      'set',
      'greet',
      JSON.stringify({
        steps: [
          { type: 'send', text: 'echo macro-$((6*7))\r' },
          { type: 'waitPattern', pattern: 'macro-42', timeoutMs: 10_000 },
          { type: 'waitState', states: ['idle'], timeoutMs: 10_000 },
          { type: 'sleep', ms: 10 },
        ],
      }),
    ]);
    assert.equal(set.code, 0, set.stderr);
    const list = await cli(daemon, ['macro', 'ls']);
    assert.match(list.stdout, /^greet$/m);
    const run = await daemon.request<{ ok: boolean; steps: { ok: boolean; outcome?: string }[] }>('POST', `/api/v1/sessions/${id}/macros/greet/run`);
    assert.equal(run.body.ok, true, JSON.stringify(run.body));
    assert.deepEqual(run.body.steps.map((s) => s.ok), [true, true, true, true]);
    await daemon.request('PUT', '/api/v1/macros/never', { steps: [{ type: 'waitPattern', pattern: 'will-not-appear', timeoutMs: 200 }] });
    const failed = await cli(daemon, ['macro', 'run', 'never', id]);
    assert.equal(failed.code, 4);
    assert.match(failed.stdout, /\twaitPattern\tFAILED\t\d+ms\tStep 0 \(waitPattern\) timed out after 200 ms/);
    assert.equal((await daemon.request('PUT', '/api/v1/macros/bad', { steps: [{ type: 'keys', keys: ['NoSuchKey'] }] })).status, 400);

    // Template CLI.
    const tls = await cli(daemon, ['template', 'ls']);
    assert.match(tls.stdout, /^sh-wide\tbash, wide$/m);
    assert.equal((await cli(daemon, ['template', 'rm', 'sh-wide'])).code, 0);
    assert.equal((await daemon.request('GET', '/api/v1/templates/sh-wide')).status, 404);

    // History survives a daemon restart (the session itself ends with the daemon).
    assert.equal(await daemon.stop(), 0);
    daemon = await startDaemon({ dataDir, base });
    const history = await daemon.request<{ commands: { text: string; exitCode: number | null; kind: string }[] }>('GET', `/api/v1/sessions/${id}/commands`);
    assert.deepEqual(
      history.body.commands.map((c) => [c.kind, c.text, c.exitCode]),
      [
        ['exec', 'echo "$GREETING"; for i in 1 2 3; do echo "row $i"; done; (exit 4)', 4],
        ['exec', 'echo cli-was-here', 0],
        ['exec', 'false', 1],
        // The macro typed it: recorded as input, like a command a person types.
        ['input', 'echo macro-$((6*7))', 0],
      ],
    );
    const cliHistory = await cli(daemon, ['history', id]);
    assert.match(cliHistory.stdout, /^2\texit 0 \d+ms\t\S+\techo cli-was-here$/m);
    const archived = await daemon.request<{ matches: unknown[] }>('GET', `/api/v1/sessions/${id}/search?pattern=row`);
    assert.ok(archived.body.matches.length >= 3, 'search reads the disk journal of an ended session');
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});

test('a template keeps its secret env values out of every reply, hands them to its sessions, and keeps them when saved back', async () => {
  const daemon = await startInProcessDaemon();
  const secret = 'tmpl-secret-7d1e';
  try {
    const body = { command: ['/bin/sh', '-c', 'echo "key=$API_KEY"'], kind: 'pipe', env: { API_KEY: secret, PLAIN: 'p' }, secretEnv: ['API_KEY'] };
    const replies = [
      await daemon.request('POST', '/api/v1/templates', { name: 'with-key', ...body }),
      await daemon.request('GET', '/api/v1/templates/with-key'),
      await daemon.request('GET', '/api/v1/templates'),
      await daemon.request('GET', '/api/v1/dashboard/catalog'),
    ];
    for (const reply of replies) {
      assert.equal(reply.status < 300, true, JSON.stringify(reply.body));
      assert.ok(!JSON.stringify(reply.body).includes(secret), `secret in ${JSON.stringify(reply.body)}`);
    }
    const shown = replies[1]?.body as { env: Record<string, string> };
    assert.deepEqual(shown.env, { API_KEY: '[redacted]', PLAIN: 'p' });
    // A client saving back what it was shown (placeholder included) must not overwrite the secret.
    assert.equal((await daemon.request('PUT', '/api/v1/templates/with-key', { ...body, env: shown.env, description: 'edited' })).status, 200);

    const created = await daemon.request<Info>('POST', '/api/v1/sessions', { template: 'with-key' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.env.API_KEY, '[redacted]');
    await daemon.request('POST', `/api/v1/sessions/${created.body.id}/wait`, { exit: true, timeoutMs: 15_000 });
    const output = await daemon.request<{ data: string }>('GET', `/api/v1/sessions/${created.body.id}/output?since=0&format=text`);
    assert.equal(output.body.data, `key=${secret}\n`);
  } finally {
    await daemon.stop();
    daemon.cleanup();
  }
});
