// State detection latency per agent CLI, measured against the real binaries (CLAUDE_BIN / CODEX_BIN / GEMINI_BIN or
// node_modules) and the fake provider APIs. Not part of the test suite and never pass/fail: the numbers depend on the
// machine and its load (printed with them). For each agent, SESSIONS sessions one after another:
//   spawn → ready            create() until the `ready` event
//   submit key → busy        the submit key written (after the pasted text showed) until the `busy` event
//   reply request → idle     the fake API received the echo turn's request (the reply streams at once) until `idle`
//   tool request → waiting   the fake API received the request it answers with a shell call until `waiting_input`
//                            (the dialog must be on screen and taking keys first: that guard is part of the number)
// Run: node --import tsx bench/agentLatency.ts [sessions=3] [claude,codex,gemini]

import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEngine, type EngineHarness } from '../test/helpers/engineHarness.js';
import { startFakeAnthropic } from '../test/helpers/fakeAnthropic.js';
import { startFakeGemini } from '../test/helpers/fakeGemini.js';
import { codexProviderArgs, startFakeOpenAI } from '../test/helpers/fakeOpenAI.js';
import { REPO_ROOT } from '../test/helpers/daemonHarness.js';
import type { CreateSessionRequest } from '../src/protocol/api.js';
import type { Session } from '../src/engine/Session.js';
import type { SessionState } from '../src/protocol/sessionTypes.js';

const SESSIONS = Number(process.argv[2] ?? 3);
const AGENTS = (process.argv[3] ?? 'claude,codex,gemini').split(',');
const WAIT_MS = 90_000;
const KEY = 'sk-corral-bench-0123456789abcdefghij';

interface Fake {
  url: string;
  requests: readonly { userText: string | undefined; reply: string; at: number }[];
  close(): Promise<void>;
}

interface Agent {
  fake: () => Promise<Fake>;
  request: (fake: Fake, cwd: string) => CreateSessionRequest;
}

const bin = (name: string, env: string | undefined): string => env ?? join(REPO_ROOT, 'node_modules', '.bin', name);

const AGENT_SETUP: Record<string, Agent> = {
  claude: {
    fake: async () => {
      const fake = await startFakeAnthropic();
      // Its records name the prompt `lastUserText` and a shell call `tool_use`.
      return {
        url: fake.url,
        get requests() {
          return fake.requests.map((r) => ({ userText: r.lastUserText, reply: r.reply === 'tool_use' ? 'bash' : r.reply, at: r.at }));
        },
        close: () => fake.close(),
      };
    },
    request: (fake, cwd) => ({
      profile: 'claude',
      command: [bin('claude', process.env.CLAUDE_BIN), '--permission-mode', 'manual'],
      cwd,
      env: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0', LANG: 'C.UTF-8' },
      agent: { authToken: KEY, isolatedHome: true, preAnswer: true },
    }),
  },
  codex: {
    fake: () => startFakeOpenAI({ apiKey: KEY }),
    request: (fake, cwd) => ({
      profile: 'codex',
      command: [
        bin('codex', process.env.CODEX_BIN), '-a', 'on-request',
        ...codexProviderArgs(fake.url),
      ],
      cwd,
      env: { LANG: 'C.UTF-8' },
      agent: { authToken: KEY, isolatedHome: true, preAnswer: true },
    }),
  },
  gemini: {
    fake: () => startFakeGemini({ apiKey: KEY }),
    request: (fake, cwd) => ({
      profile: 'gemini',
      command: [bin('gemini', process.env.GEMINI_BIN)],
      cwd,
      env: { LANG: 'C.UTF-8', GOOGLE_GEMINI_BASE_URL: fake.url },
      agent: { authToken: KEY, isolatedHome: true, preAnswer: true },
    }),
  },
};

/** performance.now() of the next event into one of `states`, from now on. */
function nextState(session: Session, states: SessionState[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${states.join('|')} within ${WAIT_MS} ms (state ${session.state}: ${session.stateReason})`)), WAIT_MS);
    const sub = session.onStateChange((event) => {
      if (!states.includes(event.to)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(performance.now());
    });
  });
}

/** The CLI version each agent's sessions reported. */
const versions = new Map<string, string>();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Pastes `text` and waits until it shows (what `prompt` does before its submit key). */
async function paste(session: Session, text: string): Promise<void> {
  session.write(`\x1b[200~${text}\x1b[201~`);
  await sleep(session.spec.profile.input.submitDelayMs);
  const until = performance.now() + 5000;
  while (performance.now() < until && !(await session.screenSnapshot()).lines.some((line) => line.includes(text.slice(0, 16)))) await sleep(20);
  await sleep(60);
}

/** Presses the submit key; its time. */
function submitKey(session: Session): number {
  const at = performance.now();
  session.sendInput(undefined, session.spec.profile.input.submit);
  return at;
}

function requestAt(fake: Fake, text: string, reply: string): number {
  const found = fake.requests.find((r) => r.userText === text && r.reply === reply);
  if (found === undefined) throw new Error(`the fake never got "${text}" (${reply})`);
  return found.at;
}

async function measure(engine: EngineHarness, name: string, agent: Agent, fake: Fake, round: number): Promise<Record<string, number>> {
  const cwd = join(engine.root, `${name}-${round}`);
  mkdirSync(cwd, { recursive: true });
  const t0 = performance.now();
  const { session } = await engine.manager.create(agent.request(fake, cwd));
  const readyAt = await nextState(session, ['ready']);
  const out: Record<string, number> = { 'spawn → ready': readyAt - t0 };

  const echo = `bench echo ${round}`;
  await paste(session, echo);
  const busy = nextState(session, ['busy']);
  const idle = nextState(session, ['idle']);
  const submitted = submitKey(session);
  out['submit key → busy'] = (await busy) - submitted;
  out['reply request → idle'] = (await idle) - requestAt(fake, echo, 'echo');

  await sleep(2000); // late hooks of the last turn pass
  const tool = `bash: touch bench-${round}.txt`;
  await paste(session, tool);
  const waiting = nextState(session, ['waiting_input']);
  submitKey(session);
  const waitingAt = await waiting;
  out['tool request → waiting_input'] = waitingAt - requestAt(fake, tool, 'bash');
  const idleAgain = nextState(session, ['idle']);
  await engine.manager.agents.answer(session, { choice: '1' });
  await idleAgain;
  versions.set(name, session.toInfo().agent?.version ?? '?');
  await engine.manager.terminate(session.id);
  return out;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return `min ${Math.round(sorted[0] ?? NaN)} · median ${Math.round(at(0.5))} · max ${Math.round(sorted.at(-1) ?? NaN)} ms`;
}

async function main(): Promise<void> {
  console.log(`agent state latency, ${SESSIONS} session(s) per agent, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const engine = await startEngine({ graces: { politeMs: 3000, interruptMs: 1000, termMs: 1000 } });
  try {
    for (const name of AGENTS) {
      const agent = AGENT_SETUP[name];
      if (agent === undefined) throw new Error(`unknown agent ${name}`);
      const fake = await agent.fake();
      const rows: Record<string, number[]> = {};
      try {
        for (let round = 0; round < SESSIONS; round++) {
          for (const [key, value] of Object.entries(await measure(engine, name, agent, fake, round))) (rows[key] ??= []).push(value);
        }
      } finally {
        await fake.close();
      }
      console.log(`\n${name} ${versions.get(name) ?? '?'}`);
      for (const [key, values] of Object.entries(rows)) console.log(`  ${key.padEnd(30)} ${summary(values)}`);
    }
  } finally {
    await engine.close();
  }
  console.log(`\nload average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

await main();
