// Exploration script: drives the real `claude` CLI in a 120x40 PTY against the fake Anthropic API, renders it
// with @xterm/headless and saves each situation's screen (and hook payloads) as fixtures for the state detector.
// Run: node --import tsx test/helpers/recordClaudeScreens.ts [scenario...]   (never touches the real HOME)
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as pty from 'node-pty';
import xtermHeadless from '@xterm/headless';
import { startFakeAnthropic, type FakeAnthropic } from './fakeAnthropic.js';
import { claudeEnv, prepareClaudeHome } from './claudeHome.js';

const COLS = 120;
const ROWS = 40;
const CLAUDE_BIN = resolve('node_modules/.bin/claude');
const SCREENS_DIR = resolve('test/helpers/fixtures/claude-screens');
const HOOKS_DIR = resolve('test/helpers/fixtures/claude-hooks');
const TRANSCRIPTS_DIR = resolve('test/helpers/fixtures/claude-transcripts');
const TRANSCRIPT_TYPES = new Set(['user', 'assistant', 'system', 'queue-operation', 'last-prompt']);
const API_KEY = 'sk-ant-api03-fake-key-for-recording-0123456789';
// Keys sent within ~150 ms of a dialog appearing are dropped by the CLI; wait this long after it renders.
const SETTLE_MS = 300;
const HOOK_EVENTS = [
  'SessionStart',
  'UserPromptSubmit',
  'PermissionRequest',
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'Stop',
  'StopFailure',
  'Notification',
  'SessionEnd',
] as const;

/** One line of the timeline the recorder prints: screen/title changes, hook calls, inputs. */
interface TimelineEntry {
  readonly t: number;
  readonly what: string;
}

/** A claude process in a PTY, rendered by a headless xterm that answers the terminal queries the CLI sends. */
class ClaudeTerminal {
  readonly term = new xtermHeadless.Terminal({ cols: COLS, rows: ROWS, allowProposedApi: true });
  readonly proc: pty.IPty;
  title = '';
  exit: { exitCode: number; signal?: number } | undefined;
  private lastSignature = '';

  constructor(
    args: string[],
    opts: { cwd: string; env: Record<string, string> },
    private readonly timeline: TimelineEntry[],
  ) {
    this.proc = pty.spawn(CLAUDE_BIN, args, { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd: opts.cwd, env: opts.env });
    this.mark(`spawn pid ${this.proc.pid} ${args.join(' ')}`);
    // xterm.js answers DA1 (ESC[c), DSR and DECRQM itself through onData; those answers go back to the CLI.
    this.term.onData((reply) => this.proc.write(reply));
    // XTVERSION (ESC[>0q): answer like a real xterm.js-based terminal does.
    this.term.parser.registerCsiHandler({ prefix: '>', final: 'q' }, () => {
      this.proc.write('\x1bP>|xterm.js(6.0.0)\x1b\\');
      return true;
    });
    // Kitty keyboard query (ESC[?u) and OSC 7501 are left unanswered: a terminal without those features stays
    // silent, and the DA1 answer that follows tells the CLI so.
    this.term.onTitleChange((title) => {
      this.title = title;
      this.mark(`title ${JSON.stringify(title)}`);
    });
    this.proc.onData((data) => this.term.write(data, () => this.noteScreen()));
    this.proc.onExit((e) => {
      this.exit = e;
      this.mark(`exit ${JSON.stringify(e)}`);
    });
  }

  mark(what: string): void {
    this.timeline.push({ t: Date.now(), what });
  }

  screen(): string[] {
    const buffer = this.term.buffer.active;
    const rows: string[] = [];
    for (let i = 0; i < ROWS; i++) rows.push(buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '');
    return rows;
  }

  text(): string {
    return this.screen().join('\n');
  }

  /** A coarse classification, only to time screen changes against hooks in the timeline. */
  private noteScreen(): void {
    const text = this.text();
    const signs: string[] = [];
    if (/esc to interrupt/i.test(text)) signs.push('busy(esc to interrupt)');
    if (text.includes('Do you want to proceed?')) signs.push('permission-dialog');
    if (text.includes('Quick safety check')) signs.push('trust-dialog');
    if (text.includes('Do you want to use this API key?')) signs.push('api-key-dialog');
    if (/^❯\u00a0/m.test(text)) signs.push('prompt-box');
    if (/✻ \S+ for \d/.test(text)) signs.push('turn-done-line');
    if (text.includes('Interrupted')) signs.push('interrupted');
    if (text.includes('API Error')) signs.push('api-error');
    if (text.includes('again to exit')) signs.push('press-again');
    const signature = signs.join(' ');
    if (signature !== this.lastSignature) {
      this.lastSignature = signature;
      this.mark(`screen [${signature}]`);
    }
  }

  async waitFor(what: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const start = performance.now();
    while (performance.now() - start < timeoutMs) {
      const text = this.text();
      if (typeof what === 'string' ? text.includes(what) : what.test(text)) return;
      if (this.exit !== undefined) throw new Error(`claude exited (${JSON.stringify(this.exit)}) waiting for ${String(what)}\n${text}`);
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${String(what)}; screen:\n${this.text()}`);
  }

  async waitGone(what: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const start = performance.now();
    while (performance.now() - start < timeoutMs) {
      const text = this.text();
      if (!(typeof what === 'string' ? text.includes(what) : what.test(text))) return;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${String(what)} to go; screen:\n${this.text()}`);
  }

  async waitExit(timeoutMs = 10_000): Promise<{ exitCode: number; signal?: number } | undefined> {
    const start = performance.now();
    while (this.exit === undefined && performance.now() - start < timeoutMs) await sleep(20);
    return this.exit;
  }

  press(keys: string, label: string): void {
    this.mark(`input ${label}`);
    this.proc.write(keys);
  }

  /** Types a prompt as a bracketed paste (the CLI enables mode 2004), then submits it with Enter. */
  async submit(text: string): Promise<void> {
    this.press(`\x1b[200~${text}\x1b[201~`, `paste ${JSON.stringify(text)}`);
    await sleep(150);
    this.press('\r', 'Enter');
  }

  save(name: string): void {
    const body = [`# title: ${this.title}`, ...this.screen()].join('\n');
    writeFileSync(join(SCREENS_DIR, `${name}.txt`), `${body}\n`);
    this.mark(`saved ${name}`);
    console.log(`--- ${name} (title ${JSON.stringify(this.title)})\n${this.screen().filter((l) => l.trim() !== '').join('\n')}`);
  }

  async dispose(): Promise<void> {
    if (this.exit === undefined) {
      this.proc.kill('SIGTERM');
      if ((await this.waitExit(5_000)) === undefined) this.proc.kill('SIGKILL');
    }
    this.term.dispose();
  }
}

interface Workspace {
  readonly root: string;
  readonly home: string;
  readonly cwd: string;
  readonly hookLog: string;
  readonly settingsFile: string;
}

/** A temp HOME + project dir, plus a settings file whose hooks append every payload to a log. */
function makeWorkspace(name: string, opts: { trust: boolean; approve: boolean; apiKey?: string; skipOnboarding?: boolean }): Workspace {
  const root = mkdtempSync(join(tmpdir(), `corral-rec-${name}-`));
  const home = join(root, 'home');
  const cwd = join(root, 'project');
  mkdirSync(cwd, { recursive: true });
  prepareClaudeHome({
    dir: home,
    projectDirs: [cwd],
    apiKey: opts.apiKey,
    trustProjects: opts.trust,
    approveApiKey: opts.approve,
    skipOnboarding: opts.skipOnboarding,
  });
  const hookLog = join(root, 'hooks.jsonl');
  const hookScript = join(root, 'hook.mjs');
  writeFileSync(
    hookScript,
    [
      "import { appendFileSync } from 'node:fs';",
      'let input = "";',
      'process.stdin.setEncoding("utf8");',
      'process.stdin.on("data", (c) => (input += c));',
      'process.stdin.on("end", () => {',
      '  const record = { t: Date.now(), event: process.argv[2], probe: process.env.CORRAL_PROBE ?? null, payload: JSON.parse(input) };',
      `  appendFileSync(${JSON.stringify(hookLog)}, JSON.stringify(record) + "\\n");`,
      '});',
      '',
    ].join('\n'),
  );
  chmodSync(hookScript, 0o755);
  const hooks: Record<string, unknown> = {};
  for (const event of HOOK_EVENTS) {
    hooks[event] = [{ matcher: '', hooks: [{ type: 'command', command: `${process.execPath} ${hookScript} ${event}` }] }];
  }
  const settingsFile = join(root, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify({ hooks }, null, 2));
  return { root, home, cwd, hookLog, settingsFile };
}

interface HookRecord {
  t: number;
  event: string;
  probe: string | null;
  payload: Record<string, unknown>;
}

function readHooks(ws: Workspace): HookRecord[] {
  if (!existsSync(ws.hookLog)) return [];
  return readFileSync(ws.hookLog, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as HookRecord);
}

const savedHookEvents = new Set<string>();
const VARIANT_KEYS: Readonly<Record<string, string>> = {
  Notification: 'notification_type',
  StopFailure: 'error',
  SessionEnd: 'reason',
  SessionStart: 'source',
};

/** Saves the first payload of each hook event variant as a fixture. */
function saveHooks(records: HookRecord[]): void {
  for (const record of records) {
    // One fixture per event, plus one per variant (notification type, error kind, end reason, start source).
    const key = VARIANT_KEYS[record.event];
    const value = key === undefined ? undefined : record.payload[key];
    const variant = typeof value === 'string' ? value : undefined;
    const name = variant === undefined ? record.event : `${record.event}-${variant}`;
    if (savedHookEvents.has(name)) continue;
    savedHookEvents.add(name);
    writeFileSync(join(HOOKS_DIR, `${name}.json`), `${JSON.stringify(record.payload, null, 2)}\n`);
  }
}

function printTimeline(label: string, timeline: TimelineEntry[], hooks: HookRecord[]): void {
  const all = [
    ...timeline,
    ...hooks.map((h) => ({ t: h.t, what: `HOOK ${h.event} ${JSON.stringify(h.payload).slice(0, 160)} probe=${String(h.probe)}` })),
  ].sort((a, b) => a.t - b.t);
  const t0 = all[0]?.t ?? 0;
  console.log(`=== timeline ${label}`);
  for (const entry of all) console.log(`${String(entry.t - t0).padStart(7)} ms  ${entry.what}`);
  appendFileSync(join(tmpdir(), 'corral-claude-timeline.log'), `=== ${label}\n${all.map((e) => `${e.t - t0} ${e.what}`).join('\n')}\n`);
}

interface ScenarioContext {
  readonly fake: FakeAnthropic;
}

async function runScenario(
  label: string,
  ws: Workspace,
  args: string[],
  env: Record<string, string>,
  body: (c: ClaudeTerminal) => Promise<void>,
): Promise<void> {
  const timeline: TimelineEntry[] = [];
  const claude = new ClaudeTerminal(args, { cwd: ws.cwd, env }, timeline);
  try {
    await body(claude);
  } catch (error) {
    console.error(`scenario ${label} failed:`, error);
  } finally {
    await claude.dispose();
    await sleep(300);
    const hooks = readHooks(ws);
    saveHooks(hooks);
    const transcript = hooks.map((h) => h.payload.transcript_path).find((p): p is string => typeof p === 'string');
    if (transcript !== undefined && existsSync(transcript)) {
      mkdirSync(TRANSCRIPTS_DIR, { recursive: true });
      // Keep the conversation entries; request blobs and attachments (system prompt, tool lists) are ~100 KB each.
      const kept = readFileSync(transcript, 'utf8')
        .split('\n')
        .filter((line) => line !== '' && TRANSCRIPT_TYPES.has((JSON.parse(line) as { type?: string }).type ?? ''));
      writeFileSync(join(TRANSCRIPTS_DIR, `${label}.jsonl`), `${kept.join('\n')}\n`);
    }
    printTimeline(label, timeline, hooks);
    rmSync(ws.root, { recursive: true, force: true });
  }
}

// The input line is `❯` + U+00A0; echoed prompts in the history use `❯` + a plain space.
const PROMPT_BOX = /^❯\u00a0/m;

const scenarios: Record<string, (ctx: ScenarioContext) => Promise<void>> = {
  async trust({ fake }) {
    const ws = makeWorkspace('trust', { trust: false, approve: true, apiKey: API_KEY });
    const env = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: API_KEY }), CORRAL_PROBE: 'trust' };
    await runScenario('trust', ws, ['--settings', ws.settingsFile], env, async (c) => {
      await c.waitFor('Quick safety check');
      await sleep(SETTLE_MS);
      c.save('trust-dialog');
      // The cursor starts on "No, exit": Enter alone exits with code 1.
      c.press('\x1b[B', 'Down');
      await sleep(SETTLE_MS);
      c.save('trust-dialog-yes-selected');
      c.press('\r', 'Enter');
      await c.waitFor(PROMPT_BOX);
      await sleep(500);
      c.save('ready-after-trust');
      const config = JSON.parse(readFileSync(join(ws.home, '.claude.json'), 'utf8')) as { projects?: Record<string, unknown> };
      console.log('projects after trust:', JSON.stringify(config.projects));
    });
  },

  async apikey({ fake }) {
    const ws = makeWorkspace('apikey', { trust: true, approve: false, apiKey: API_KEY });
    const env = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: API_KEY }), CORRAL_PROBE: 'apikey' };
    await runScenario('apikey', ws, ['--settings', ws.settingsFile], env, async (c) => {
      await c.waitFor('Do you want to use this API key?');
      await sleep(SETTLE_MS);
      c.save('api-key-question');
      c.press('\x1b[A', 'Up');
      await sleep(SETTLE_MS);
      c.save('api-key-question-up');
      c.press('\r', 'Enter');
      await c.waitFor(PROMPT_BOX);
      await sleep(500);
      c.save('ready-after-api-key');
      const config = JSON.parse(readFileSync(join(ws.home, '.claude.json'), 'utf8')) as { customApiKeyResponses?: unknown };
      console.log('customApiKeyResponses after answer:', JSON.stringify(config.customApiKeyResponses));
    });
  },

  async turns({ fake }) {
    const ws = makeWorkspace('turns', { trust: true, approve: true, apiKey: API_KEY });
    const env = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: API_KEY }), CORRAL_PROBE: 'turns' };
    await runScenario('turns', ws, ['--settings', ws.settingsFile], env, async (c) => {
      await c.waitFor(PROMPT_BOX);
      await sleep(800);
      c.save('ready');
      await c.submit('slow 6: hello world from a slow reply');
      await c.waitFor(/esc to interrupt/i);
      await sleep(2000);
      c.save('busy');
      await c.waitGone(/esc to interrupt/i, 20_000);
      await sleep(400);
      c.save('idle-after-turn');

      await c.submit('slow 20: this one gets interrupted');
      await c.waitFor(/esc to interrupt/i);
      await sleep(1500);
      c.press('\x1b', 'Esc');
      await c.waitGone(/esc to interrupt/i);
      await sleep(400);
      c.save('interrupted');

      await c.submit('slow 20: this one gets ctrl-c');
      await c.waitFor(/esc to interrupt/i);
      await sleep(1500);
      c.press('\x03', 'Ctrl-C');
      await c.waitGone(/esc to interrupt/i);
      await sleep(400);
      c.save('interrupted-ctrl-c');

      await c.submit('slow 3: busy then queued');
      await c.waitFor(/esc to interrupt/i);
      await sleep(500);
      await c.submit('queued prompt');
      await sleep(300);
      c.save('busy-with-queued-prompt');
      await c.waitFor('echo: queued prompt', 20_000);
      await c.waitGone(/esc to interrupt/i);
      await sleep(400);
      c.save('idle-after-queued');

      await c.submit('error 500');
      await c.waitFor('API Error');
      await sleep(400);
      c.save('api-error');

      await c.submit('overloaded');
      await c.waitGone(/esc to interrupt/i);
      await sleep(1000);
      c.save('overloaded-error');

      await c.submit('error 401');
      await sleep(1500);
      await c.waitGone(/esc to interrupt/i);
      await sleep(400);
      c.save('auth-error');

      c.press('\x03', 'Ctrl-C');
      await c.waitFor('again to exit');
      await sleep(100);
      c.save('ctrl-c-once');
      c.press('\x03', 'Ctrl-C');
      console.log('exit after two Ctrl-C:', JSON.stringify(await c.waitExit()));
      await sleep(1000);
    });
  },

  async permission({ fake }) {
    const ws = makeWorkspace('permission', { trust: true, approve: true, apiKey: API_KEY });
    const env = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: API_KEY }), CORRAL_PROBE: 'permission' };
    const args = ['--settings', ws.settingsFile, '--permission-mode', 'manual'];
    await runScenario('permission', ws, args, env, async (c) => {
      await c.waitFor(PROMPT_BOX);
      await sleep(500);
      c.save('ready-manual-mode');
      await c.submit('bash: touch made-by-tool.txt && echo touched');
      await c.waitFor('Do you want to proceed?');
      await sleep(SETTLE_MS);
      c.save('permission-prompt');
      // Notification(permission_prompt) is said to come ~6 s late: stay on the dialog long enough to see it.
      await sleep(7000);
      c.press('\r', 'Enter');
      await c.waitFor('tool said:');
      await c.waitGone(/esc to interrupt/i);
      await sleep(400);
      c.save('idle-after-tool');
      console.log('file made by tool:', existsSync(join(ws.cwd, 'made-by-tool.txt')));

      await c.submit('bash: rm made-by-tool.txt');
      await c.waitFor('Do you want to proceed?');
      await sleep(SETTLE_MS);
      c.press('\x1b', 'Esc');
      await c.waitGone('Do you want to proceed?');
      await sleep(600);
      c.save('permission-rejected');

      // A read-only command like `false` runs without asking even in manual mode; a write asks.
      await c.submit('bash: touch second.txt && exit 3');
      await c.waitFor('Do you want to proceed?');
      await sleep(SETTLE_MS);
      c.press('1', '1');
      await c.waitGone('Do you want to proceed?');
      await c.waitGone(/esc to interrupt/i);
      await sleep(600);
      c.save('idle-after-failed-tool');

      c.press('/exit', 'type /exit');
      await sleep(200);
      c.press('\r', 'Enter');
      console.log('exit after /exit:', JSON.stringify(await c.waitExit()));
      await sleep(1000);
    });
  },

  async merge({ fake }) {
    // Does --settings (here inline JSON, no matcher) merge with ~/.claude/settings.json, or replace it?
    const ws = makeWorkspace('merge', { trust: true, approve: true, apiKey: API_KEY });
    const userLog = join(ws.root, 'user-hooks.log');
    const cliLog = join(ws.root, 'cli-hooks.log');
    mkdirSync(join(ws.home, '.claude'), { recursive: true });
    const userHook = { hooks: [{ type: 'command', command: `echo user-settings >> ${userLog}` }] };
    writeFileSync(join(ws.home, '.claude', 'settings.json'), JSON.stringify({ hooks: { UserPromptSubmit: [userHook] } }));
    const inline = JSON.stringify({ hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command: `echo cli-settings >> ${cliLog}` }] }] } });
    const env = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: API_KEY }), CORRAL_PROBE: 'merge' };
    await runScenario('merge', ws, ['--settings', inline], env, async (c) => {
      await c.waitFor(PROMPT_BOX);
      await sleep(500);
      await c.submit('hello');
      await c.waitFor('echo: hello');
      await sleep(1000);
      const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8').trim() : '(none)');
      console.log(`merge: user settings hook -> ${read(userLog)}; --settings hook -> ${read(cliLog)}`);
    });
  },

  async idlenotify({ fake }) {
    // Notification(idle_prompt) is said to come 60 s after a turn ends.
    const ws = makeWorkspace('idlenotify', { trust: true, approve: true, apiKey: API_KEY });
    const env = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: API_KEY }), CORRAL_PROBE: 'idlenotify' };
    await runScenario('idlenotify', ws, ['--settings', ws.settingsFile], env, async (c) => {
      await c.waitFor(PROMPT_BOX);
      await sleep(500);
      await c.submit('hello');
      await c.waitFor('echo: hello');
      const start = performance.now();
      while (performance.now() - start < 75_000) {
        if (readHooks(ws).some((h) => h.event === 'Notification')) break;
        await sleep(500);
      }
      await sleep(300);
      c.save('idle-after-idle-notification');
    });
  },

  async firstrun({ fake }) {
    // No onboarding and no key: the first-run wizard checks api.anthropic.com directly (ignoring the base URL).
    const ws = makeWorkspace('firstrun', { trust: true, approve: false, skipOnboarding: true });
    const env: Record<string, string> = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: '' }), CORRAL_PROBE: 'firstrun' };
    delete env.ANTHROPIC_API_KEY;
    await runScenario('firstrun', ws, ['--settings', ws.settingsFile], env, async (c) => {
      await c.waitFor(/Unable to connect|Select login method|How do you want to sign in/, 20_000);
      await sleep(500);
      c.save('first-run-unreachable');
      c.press('\r', 'Enter');
      await sleep(1500);
      console.log('after Enter on first-run screen, exit:', JSON.stringify(c.exit));
    });
  },

  async notloggedin({ fake }) {
    const ws = makeWorkspace('notloggedin', { trust: true, approve: false });
    const env: Record<string, string> = { ...claudeEnv({ home: ws.home, baseUrl: fake.url, apiKey: '' }), CORRAL_PROBE: 'notloggedin' };
    delete env.ANTHROPIC_API_KEY;
    await runScenario('notloggedin', ws, ['--settings', ws.settingsFile], env, async (c) => {
      await sleep(3000);
      c.save('no-key-start');
      await c.submit('hello');
      await sleep(2500);
      c.save('not-logged-in');
      await c.submit('/login');
      await c.waitFor(/Select login method|How do you want to sign in|login/i);
      await sleep(1500);
      c.save('login-screen');
      c.press('\x1b', 'Esc');
      await sleep(1000);
      c.save('login-screen-after-esc');
    });
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  if (wanted.length === 0) {
    // A full run rewrites every fixture, so stale ones from older CLI versions do not linger.
    for (const dir of [SCREENS_DIR, HOOKS_DIR, TRANSCRIPTS_DIR]) rmSync(dir, { recursive: true, force: true });
  }
  const names = wanted.length > 0 ? wanted : Object.keys(scenarios);
  const fake = await startFakeAnthropic();
  try {
    for (const name of names) {
      const scenario = scenarios[name];
      if (scenario === undefined) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
      mkdirSync(SCREENS_DIR, { recursive: true });
      mkdirSync(HOOKS_DIR, { recursive: true });
      fake.requests.length = 0;
      await scenario({ fake });
      console.log(`requests during ${name}:`, fake.requests.map((r) => `${r.method} ${r.url} ${r.reply} ${JSON.stringify(r.lastUserText ?? '')}`).join('\n  '));
    }
  } finally {
    await fake.close();
  }
}

await main();
