// The dashboard as mission control, in a real Chromium against a real daemon: the attention queue shows a real
// Claude Code session's permission dialog (fake Anthropic API) and answering it there runs the tool; the agent
// view's conversation and prompt box; the grid shows four sessions typing at once without resizing any; the phone
// layout; screenshots against committed baselines; axe-core; and a daemon restart the page rides through.
//
// Screenshot baselines live in test/web/baselines/. Live content (ages, CPU, output lines) is frozen to fixed text
// before each shot, and the comparison allows a small share of differing pixels (fonts and anti-aliasing differ
// between machines). To refresh them after a deliberate change of the look:
//   CORRAL_UPDATE_BASELINES=1 node scripts/run-tests.mjs test/web/missionControl.test.ts
// then look at the new PNGs and commit them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { REPO_ROOT, startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';
import { startFakeAnthropic, type FakeAnthropic } from '../helpers/fakeAnthropic.js';

// The page's globals as the functions sent into Chromium see them (this file compiles without the DOM lib).
interface GridTileProbe {
  id: string;
  text: string;
  cols: number;
  rows: number;
  connected: boolean;
}
interface TerminalProbe {
  text(): string;
  connects(): number;
}
interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}
declare const window: { corralGrid?: { tiles(): GridTileProbe[] }; corralTerminal?: TerminalProbe; axe: { run(context: unknown, options: unknown): Promise<AxeResult> } };
interface El {
  textContent: string | null;
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number; height: number };
}
declare const document: {
  title: string;
  body: { dataset: Record<string, string | undefined> };
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El> & { length: number };
  createRange(): { selectNodeContents(node: El): void; getClientRects(): { length: number } };
};

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--font-render-hinting=none'];
/** Waits in the page and on the daemon: generous for a loaded 2-core machine; they end as soon as the condition holds. */
const UI_TIMEOUT_MS = 30_000;
const CLAUDE_TIMEOUT_MS = 90_000;
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude');
const BASELINES = join(REPO_ROOT, 'test', 'web', 'baselines');
const UPDATE_BASELINES = process.env.CORRAL_UPDATE_BASELINES === '1';
/** Share of pixels allowed to differ from a baseline: fonts and anti-aliasing vary between machines; a moved panel does not fit. */
const MAX_DIFF_RATIO = 0.03;

const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && process.env.CI === undefined ? `${CHROMIUM} is absent (apt-get install chromium); CI runs these` : false;

let daemon: DaemonHandle;
let firstDaemon: DaemonHandle;
let port: number;
let browser: Browser;
let fake: FakeAnthropic;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: chosen } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return chosen;
}

async function buildWeb(): Promise<void> {
  await build({
    entryPoints: [join(REPO_ROOT, 'src', 'web', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'chrome110',
    minify: true,
    sourcemap: true,
    outdir: join(REPO_ROOT, 'dist', 'web'),
    logLevel: 'warning',
  });
}

async function loggedInPage(viewport = LAPTOP, hash = '#/'): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  const link = await daemon.request<{ url: string }>('POST', '/api/v1/auth/login-links', {});
  assert.equal(link.status, 201);
  await page.goto(link.body.url);
  await page.waitForSelector('#attention', { timeout: UI_TIMEOUT_MS });
  if (hash !== '#/') await page.goto(`${daemon.url}/${hash}`);
  return { context, page, errors };
}

async function createSession(body: Record<string, unknown>): Promise<SessionInfo> {
  const reply = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', body);
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body;
}

async function info(id: string): Promise<SessionInfo> {
  const reply = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

async function waitState(id: string, states: string[], timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const reply = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${id}/wait`, { states, timeoutMs });
  assert.ok(reply.body.matched, `waited for ${states.join('|')}: ${JSON.stringify(reply.body.session?.state)} ${reply.body.session?.stateReason}`);
}

async function poll(what: string, check: () => boolean | Promise<boolean>, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Live content (ages, usage, output lines, versions, terminal text) set to fixed text so a shot is the same on every run. */
async function freezeLiveContent(page: Page): Promise<void> {
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('[data-live=time]')) el.textContent = '1m';
    for (const el of document.querySelectorAll('[data-live=output], td.usage, .version, .stream-note')) el.textContent = '·';
    for (const el of document.querySelectorAll('td.name .sub')) el.textContent = 'sleep';
  });
}

async function compareScreenshot(page: Page, name: string): Promise<void> {
  await freezeLiveContent(page);
  const shot = PNG.sync.read(await page.screenshot({ fullPage: false, animations: 'disabled', caret: 'hide' }));
  const path = join(BASELINES, name);
  if (UPDATE_BASELINES || !existsSync(path)) {
    // A missing baseline fails the run (CI must compare), but is written so the next run has one to look at.
    mkdirSync(BASELINES, { recursive: true });
    writeFileSync(path, PNG.sync.write(shot));
    if (!UPDATE_BASELINES) assert.fail(`no baseline ${path}: one was written from this run; look at it and commit it`);
    return;
  }
  const baseline = PNG.sync.read(readFileSync(path));
  assert.deepEqual([shot.width, shot.height], [baseline.width, baseline.height], `${name}: size differs from the baseline`);
  const diff = new PNG({ width: shot.width, height: shot.height });
  const differing = pixelmatch(baseline.data, shot.data, diff.data, shot.width, shot.height, { threshold: 0.2 });
  const ratio = differing / (shot.width * shot.height);
  if (ratio > MAX_DIFF_RATIO) {
    const out = join(REPO_ROOT, 'test', 'web', `${name.replace(/\.png$/, '')}.diff.png`);
    writeFileSync(out, PNG.sync.write(diff));
    writeFileSync(out.replace('.diff.png', '.actual.png'), PNG.sync.write(shot));
    assert.fail(`${name}: ${(ratio * 100).toFixed(2)}% of pixels differ from the baseline (allowed ${MAX_DIFF_RATIO * 100}%); see ${out}`);
  }
}

async function axeViolations(page: Page): Promise<string[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') does not apply to it.
  await page.evaluate(source);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('the dashboard as mission control, in Chromium', { skip }, () => {
  before(async () => {
    await buildWeb();
    fake = await startFakeAnthropic();
    port = await freePort();
    daemon = await startDaemon({ args: ['--port', String(port)] });
    firstDaemon = daemon;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    if (firstDaemon !== undefined) await stopLeavingNothing(firstDaemon, daemon === firstDaemon ? null : daemon);
    await fake?.close();
  });

  test('the attention queue shows a Claude permission dialog from the daemon; answering it there runs the tool; the agent view prompts', async (t) => {
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions/claude', {
      environment: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' },
      authToken: 'sk-ant-corral-dashboard-0123456789abcdefgh',
      home: 'isolated',
      preAnswer: true,
      executable: CLAUDE,
      args: ['--permission-mode', 'manual'],
      taskId: 'dash-agent',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const session = created.body;
    const { context, page } = await loggedInPage();
    try {
      // Opt in to notifications. Headless Chromium shows none, so the page's Notification is wrapped to record what
      // it was asked to show (the only stand-in in this file); the permission is granted as a user would.
      await context.grantPermissions(['notifications'], { origin: daemon.url });
      // A string, not a function: the test's compiler would add helpers the page does not have.
      await page.evaluate(`(() => {
        const Real = window.Notification;
        window.shownNotifications = [];
        window.Notification = Object.assign(
          function (title, options) { window.shownNotifications.push(title); return new Real(title, options); },
          { permission: 'granted', requestPermission: () => Promise.resolve('granted') });
      })()`);
      await page.check('#notify');
      await waitState(session.id, ['ready'], CLAUDE_TIMEOUT_MS);
      const first = await daemon.request<{ reply: string }>('POST', `/api/v1/sessions/${session.id}/prompt`, { text: 'first words', timeoutMs: CLAUDE_TIMEOUT_MS });
      assert.equal(first.body.reply, 'echo: first words', JSON.stringify(first.body));
      const asked = await daemon.request<{ state: string }>('POST', `/api/v1/sessions/${session.id}/prompt`, {
        text: 'bash: touch made-from-queue.txt && echo touched',
        timeoutMs: CLAUDE_TIMEOUT_MS,
      });
      assert.equal(asked.body.state, 'waiting_input', JSON.stringify(asked.body));
      // The prompt answers at the moment waiting_input is reported (the dialog on screen, taking keys).
      const reportedAt = performance.now();

      // The card: the dialog's question and options as the daemon read them, and the last reply.
      const card = page.locator(`#attention-list li[data-session-id="${session.id}"]`);
      await card.locator('button[data-choice="Yes"]').waitFor({ timeout: UI_TIMEOUT_MS });
      // Measured, not asserted (a loaded machine stretches it): how long after the report the queue showed it.
      t.diagnostic(`attention card answerable ${Math.round(performance.now() - reportedAt)} ms after waiting_input was reported`);
      const cardText = (await card.textContent()) ?? '';
      assert.match(cardText, /Do you want to proceed\?/);
      assert.match(cardText, /touch made-from-queue\.txt/, 'the command the tool wants to run is shown');
      assert.match(cardText, /echo: first words/, "the agent's last reply is shown");
      assert.match(cardText, /waiting \d+[smhd]/);
      await poll('the tab title counts the waiting session', async () => /^\(1\) /.test(await page.title()));
      const notes = await page.evaluate(() => (globalThis as unknown as { shownNotifications: string[] }).shownNotifications);
      assert.ok(notes.some((title) => title.includes('needs you')), `a notification when it started waiting: ${JSON.stringify(notes)}`);
      const dialog = await daemon.request<{ dialog: { id: string; options: { label: string }[] } | null }>('GET', `/api/v1/sessions/${session.id}/dialog`);
      assert.equal(dialog.body.dialog?.id, 'permission');
      assert.ok(existsSync(join(session.cwd)) && !existsSync(join(session.cwd, 'made-from-queue.txt')));

      await card.locator('button[data-choice="Yes"]').click();
      await poll('the tool ran (its file appeared)', () => existsSync(join(session.cwd, 'made-from-queue.txt')), CLAUDE_TIMEOUT_MS);
      await waitState(session.id, ['idle'], CLAUDE_TIMEOUT_MS);
      await card.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      await poll('the tab title drops the count', async () => !/^\(\d+\) /.test(await page.title()));

      // The agent view: the conversation from the transcript beside the terminal, and a prompt through `prompt`.
      await page.goto(`${daemon.url}/#/s/${session.id}`);
      await page.locator('#conversation').getByText('echo: first words').waitFor({ timeout: UI_TIMEOUT_MS });
      await page.fill('#prompt-text', 'second words');
      await page.click('#prompt-send');
      await poll('the reply shows in the conversation', async () => {
        const [conversation, status] = [await page.textContent('#conversation'), await page.textContent('#prompt-status')];
        assert.doesNotMatch(status ?? '', /[A-Z_]{5,}:/, 'the prompt was refused');
        return (conversation ?? '').includes('echo: second words');
      }, CLAUDE_TIMEOUT_MS);
      const turns = await page.locator('#conversation li').allTextContents();
      assert.ok(turns.some((t) => t.includes('first words')) && turns.some((t) => t.includes('second words')), turns.join(' | '));
      await page.click('#tab-timeline');
      await page.locator('#timeline li').filter({ hasText: 'waiting input' }).first().waitFor({ timeout: UI_TIMEOUT_MS });
    } finally {
      await context.close();
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}`);
    }
  });

  test('the grid shows four sessions typing at once, live, and viewing them resizes none of them', async () => {
    const typing = (n: number): string[] => ['bash', '-c', `i=0; while true; do i=$((i+1)); echo "grid-${n}-$i"; sleep 0.2; done`];
    const sizes: [number, number][] = [[80, 24], [100, 30], [120, 40], [90, 20]];
    const sessions: SessionInfo[] = [];
    for (const [n, [cols, rows]] of sizes.entries()) {
      sessions.push(await createSession({ command: typing(n), name: `grid-${n}`, cols, rows, labels: { team: n % 2 === 0 ? 'red' : 'blue' } }));
    }
    const { context, page, errors } = await loggedInPage(LAPTOP, '#/grid');
    try {
      const counters = async (): Promise<Map<string, number>> => {
        const tiles = await page.evaluate(() => window.corralGrid?.tiles() ?? []);
        const counts = new Map<string, number>();
        for (const tile of tiles) {
          const matches = [...tile.text.matchAll(/grid-(\d)-(\d+)/g)];
          const last = matches.at(-1);
          if (last?.[2] !== undefined) counts.set(tile.id, Number(last[2]));
        }
        return counts;
      };
      let firstSeen = new Map<string, number>();
      await poll('all four tiles show their output', async () => {
        firstSeen = await counters();
        return sessions.every((s) => firstSeen.has(s.id));
      });
      await poll('all four tiles keep moving', async () => {
        const now = await counters();
        return sessions.every((s) => (now.get(s.id) ?? 0) > (firstSeen.get(s.id) ?? 0) + 2);
      });
      const tiles = await page.evaluate(() => window.corralGrid?.tiles() ?? []);
      for (const [n, session] of sessions.entries()) {
        const tile = tiles.find((t) => t.id === session.id);
        assert.ok(tile !== undefined);
        assert.deepEqual([tile.cols, tile.rows], sizes[n], 'a tile draws the session at its real size');
        assert.match(tile.text, new RegExp(`grid-${n}-\\d+`));
        const now = await info(session.id);
        assert.deepEqual([now.cols, now.rows], sizes[n], `viewing ${session.name} in the grid resized it`);
      }
      // Grouped by a label, 3×3: the same tiles under their group headings.
      await page.selectOption('#grid-layout', '3');
      await page.selectOption('#grid-group', 'label:team');
      await page.locator('.grid-group h2', { hasText: 'team=red' }).waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal(await page.locator('.grid.cols-3 .tile').count(), 4);
      // A tile opens the full session.
      await page.locator(`.tile[data-session-id="${sessions[0]?.id}"] .tile-viewport`).click();
      await page.waitForURL(new RegExp(`#/s/${sessions[0]?.id}$`), { timeout: UI_TIMEOUT_MS });
      for (const [n, session] of sessions.entries()) {
        if (n === 0) continue;
        const now = await info(session.id);
        assert.deepEqual([now.cols, now.rows], sizes[n]);
      }
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      for (const session of sessions) await daemon.request('DELETE', `/api/v1/sessions/${session.id}`);
    }
  });

  test('rows say what matters: short command, state age, usage, last output line, kill; filters by label; ended sessions paged', async () => {
    const shell = await createSession({ profile: 'shell', name: 'row-shell', labels: { team: 'red' } });
    const other = await createSession({ command: ['bash', '-c', 'echo last-words-here; sleep 600'], name: 'row-other', labels: { team: 'blue' } });
    const { context, page } = await loggedInPage();
    try {
      const row = page.locator(`#live-sessions tr[data-session-id="${shell.id}"]`);
      await row.waitFor({ timeout: UI_TIMEOUT_MS });
      assert.equal((await row.locator('td.name .sub').textContent())?.trim(), 'bash', 'the program, not the rc-file path');
      await row.locator('.state-age').waitFor({ timeout: UI_TIMEOUT_MS });
      await poll('the last output line shows', async () => ((await page.locator(`tr[data-session-id="${other.id}"] td.last-line`).textContent()) ?? '').includes('last-words-here'));
      // The tree's memory, sampled (the program runs under its holder, not under the daemon).
      await poll('CPU and memory show once sampled', async () => /CPU · \d+(\.\d)? (KiB|MiB)/.test((await row.locator('td.usage').textContent()) ?? ''), 60_000);
      await page.fill('#filter-label', 'team=blue');
      await poll('the label filter hides the red row', async () => (await row.count()) === 0);
      await page.fill('#filter-label', '');
      // Rename in place: the row's field, Enter saves through PATCH /sessions/{id}.
      await row.locator('button[data-rename]').click();
      await row.locator('input.rename-input').fill('renamed-shell');
      await row.locator('input.rename-input').press('Enter');
      await poll('the daemon has the new name', async () => (await info(shell.id)).name === 'renamed-shell');
      await row.locator('td.name a', { hasText: 'renamed-shell' }).waitFor({ timeout: UI_TIMEOUT_MS });
      await row.locator('button[data-kill]').click();
      await row.locator('button[data-kill]', { hasText: 'Really?' }).click();
      await waitState(shell.id, ['terminated']);
      const ended = page.locator(`#ended-sessions tr[data-session-id="${shell.id}"]`);
      await ended.waitFor({ timeout: UI_TIMEOUT_MS });
      // Remove purges the ended session: gone from the list and from the daemon (404 afterwards).
      await ended.locator('button[data-remove]').click();
      await poll('the removed row is gone', async () => (await ended.count()) === 0);
      assert.equal((await daemon.request('GET', `/api/v1/sessions/${shell.id}`)).status, 404, 'the daemon no longer has it');
      // Ended sessions a page (20) at a time.
      const many: SessionInfo[] = [];
      for (let i = 0; i < 21; i++) many.push(await createSession({ command: ['true'], taskId: `paged-${i}` }));
      for (const session of many) await waitState(session.id, ['terminated']);
      await page.fill('#filter-task', 'paged-');
      const endedRows = page.locator('#ended-sessions tr[data-session-id]');
      await poll('the first page of ended sessions', async () => (await endedRows.count()) === 20);
      await page.click('#ended-more');
      await poll('the next page', async () => (await endedRows.count()) === 21);
      assert.ok(await page.locator('#ended-more').isHidden());
    } finally {
      await context.close();
      await daemon.request('DELETE', `/api/v1/sessions/${other.id}`);
    }
  });

  test('an agent CLI version the profile was not verified with is called out in the session header', async () => {
    // A real program that answers --version with a version no profile lists, and otherwise just waits: the daemon
    // reads the version the same way whatever the agent does next.
    const wrapper = join(daemon.root, 'codex-drift');
    writeFileSync(wrapper, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "codex-cli 0.999.0-drift"; exit 0; fi\nexec sleep 600\n');
    chmodSync(wrapper, 0o755);
    const session = await createSession({ profile: 'codex', command: [wrapper], sandbox: 'none' });
    await poll('the daemon read the version', async () => (await info(session.id)).agent?.version === '0.999.0-drift', 60_000);
    const { context, page } = await loggedInPage(LAPTOP, `#/s/${session.id}`);
    try {
      const warning = page.locator('#agent-version-warning');
      await warning.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      assert.match((await warning.textContent()) ?? '', /0\.999\.0-drift is not a version this profile was verified with/);
    } finally {
      await context.close();
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    }
  });

  test('on a phone: the attention queue first, no clipped error, no empty labels, no wrapped times, no sideways scroll', async () => {
    // An ended session (its Exit column once read "Exit:" with nothing after it) and a live one with a long name.
    const ended = await createSession({ command: ['true'], name: 'phone-ended' });
    const running = await createSession({ command: ['sleep', '600'], name: 'a-rather-long-session-name-for-a-phone-screen', taskId: 'phone-task' });
    await waitState(ended.id, ['terminated']);
    const { context, page } = await loggedInPage(PHONE);
    try {
      await page.waitForSelector(`#ended-sessions tr[data-session-id="${ended.id}"]`, { timeout: UI_TIMEOUT_MS });
      await page.waitForSelector(`#live-sessions tr[data-session-id="${running.id}"]`, { timeout: UI_TIMEOUT_MS });
      const top = async (selector: string): Promise<number> => (await page.locator(selector).boundingBox())?.y ?? Infinity;
      assert.ok((await top('#attention')) < (await top('#live-sessions')), 'the attention queue comes first');
      await page.click('#create-panel summary');
      await page.selectOption('#new-source', 'profile:command');
      await page.fill('#new-command', 'sleep 1');
      await page.fill('#new-cwd', '/definitely/not/a/workspace/root/with/a/long/path/that/used/to/overflow');
      await page.click('#new-submit');
      const status = page.locator('#new-session .form-status.error');
      await status.waitFor({ timeout: UI_TIMEOUT_MS });
      const clipped = await page.evaluate(() => {
        const error = document.querySelector('#new-session .form-status.error')?.getBoundingClientRect();
        const card = document.querySelector('#create-panel')?.getBoundingClientRect();
        return error === undefined || card === undefined ? 'missing' : error.right <= card.right + 0.5 && error.left >= card.left - 0.5 ? 'inside' : `error ${error.left}-${error.right} card ${card.left}-${card.right}`;
      });
      assert.equal(clipped, 'inside');
      const emptyLabels = await page.evaluate(() => [...document.querySelectorAll('table.sessions td[data-label]')].filter((td) => (td.textContent ?? '').trim() === '' && td.getBoundingClientRect().height > 0).length);
      assert.equal(emptyLabels, 0, 'a label with nothing after it');
      const wrapped = await page.evaluate(() =>
        [...document.querySelectorAll('[data-live=time], time')].filter((el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          return range.getClientRects().length > 1;
        }).length);
      assert.equal(wrapped, 0, 'a timestamp wrapped over two lines');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    } finally {
      await context.close();
      await daemon.request('DELETE', `/api/v1/sessions/${running.id}`);
    }
  });

  test('screenshots at 1280×800 and 390×844 match the committed baselines; axe-core finds nothing serious', async () => {
    // A scene of its own, shown alone through the label filter, so the shot does not depend on other tests.
    const scene = { scene: 'shot' };
    const sleeper = await createSession({ command: ['sleep', '600'], name: 'builder', taskId: 'task-7', labels: { ...scene, team: 'red' } });
    const watcher = await createSession({ command: ['sleep', '600'], name: 'watcher', taskId: 'task-8', labels: scene });
    const done = await createSession({ command: ['true'], name: 'finished', taskId: 'task-6', labels: scene });
    try {
      await waitState(done.id, ['terminated']);
      await waitState(sleeper.id, ['ready', 'idle', 'busy']);
      await waitState(watcher.id, ['ready', 'idle', 'busy']);
      for (const [viewport, name] of [[LAPTOP, 'sessions-desktop.png'], [PHONE, 'sessions-phone.png']] as const) {
        const { context, page, errors } = await loggedInPage(viewport);
        try {
          await page.fill('#filter-label', 'scene=shot');
          await page.waitForSelector(`#ended-sessions tr[data-session-id="${done.id}"]`, { timeout: UI_TIMEOUT_MS });
          await poll('only the scene is listed', async () => (await page.locator('table.sessions tr[data-session-id]').count()) === 3);
          assert.deepEqual(await axeViolations(page), [], `axe at ${viewport.width}×${viewport.height}`);
          await compareScreenshot(page, name);
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      }
      const { context, page } = await loggedInPage(LAPTOP, '#/grid');
      try {
        await page.locator('.tile').nth(1).waitFor({ timeout: UI_TIMEOUT_MS });
        assert.deepEqual(await axeViolations(page), [], 'axe on the grid');
        await page.goto(`${daemon.url}/#/s/${sleeper.id}`);
        await page.waitForSelector('#link-status.link-live', { timeout: UI_TIMEOUT_MS });
        assert.deepEqual(await axeViolations(page), [], 'axe on a session');
      } finally {
        await context.close();
      }
    } finally {
      for (const session of [sleeper, watcher]) await daemon.request('DELETE', `/api/v1/sessions/${session.id}`);
    }
  });

  test('a daemon restart: the page shows it is reconnecting, then resumes each terminal at its offset', async () => {
    const ticker = await createSession({ command: ['bash', '-c', 'i=0; while true; do i=$((i+1)); echo "tick-$i"; sleep 0.2; done'], name: 'ticker' });
    const { context, page } = await loggedInPage(LAPTOP, `#/s/${ticker.id}`);
    const ticks = async (): Promise<number[]> => [...(await page.evaluate(() => window.corralTerminal?.text() ?? '')).matchAll(/^tick-(\d+)$/gm)].map((m) => Number(m[1]));
    try {
      await poll('the terminal shows the ticker', async () => (await ticks()).length > 3);
      const connectsBefore = await page.evaluate(() => window.corralTerminal?.connects() ?? 0);
      const renamed = await daemon.request<SessionInfo>('PATCH', `/api/v1/sessions/${ticker.id}`, { name: 'ticker-renamed' });
      assert.equal(renamed.body.name, 'ticker-renamed', JSON.stringify(renamed.body));
      assert.equal(await daemon.stop('keep-sessions'), 0, daemon.stderr());
      await page.waitForFunction(() => document.body.dataset.daemon === 'reconnecting', undefined, { timeout: UI_TIMEOUT_MS });
      assert.match((await page.textContent('#daemon-link')) ?? '', /Reconnecting/);
      const lastBefore = (await ticks()).at(-1) ?? 0;
      daemon = await startDaemon({ dataDir: firstDaemon.dataDir, base: firstDaemon.base, args: ['--port', String(port)] });
      await page.waitForFunction(() => document.body.dataset.daemon === 'connected', undefined, { timeout: 60_000 });
      await poll('the terminal went on past the restart', async () => ((await ticks()).at(-1) ?? 0) > lastBefore + 10, 60_000);
      assert.ok((await page.evaluate(() => window.corralTerminal?.connects() ?? 0)) > connectsBefore, 'the socket reconnected');
      // Resumed at its offset: every tick once, none skipped (the holder kept the output made while no daemon ran).
      const seen = await ticks();
      const start = seen[0] ?? 0;
      assert.deepEqual(seen, seen.map((_, i) => start + i), 'ticks shown twice or skipped across the restart');
      assert.equal((await page.textContent('#daemon-link'))?.trim(), '');
      assert.equal((await info(ticker.id)).name, 'ticker-renamed', 'a rename outlives the restart');
    } finally {
      await context.close();
      await daemon.request('DELETE', `/api/v1/sessions/${ticker.id}`);
    }
  });
});
