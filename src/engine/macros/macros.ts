// Macros: named, stored step lists (send text, press keys, wait for a state or a pattern, sleep) run on any
// session, answering a result per step. A wait that times out fails the run at that step, clearly; later steps
// do not run. It only drives a session through its public input and wait calls.

import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { macroBodySchema, type MacroBody, type MacroRunResult, type MacroStep, type MacroStepResult } from '../../protocol/api.js';
import { CorralError, isCorralError } from '../../protocol/errors.js';
import { keyToBytes } from '../../protocol/keys.js';
import type { MacroRecord } from '../../protocol/apiReplies.js';
import { DisposableStore } from '../../common/lifecycle.js';
import type { Session } from '../Session.js';
import { compileWaitPattern } from '../security/userPattern.js';
import type { NamedBody, PresetStore } from '../ports.js';

// The stored macro as replies show it is a wire type (protocol/apiReplies.ts); named here for the engine's callers.
export type { MacroRecord };

function toRecord(stored: NamedBody): MacroRecord {
  return { ...macroBodySchema.parse(stored.body), name: stored.name, createdAt: stored.createdAt, updatedAt: stored.updatedAt };
}

/** Key names and patterns are checked when a macro is saved, not when it first runs. */
function validateMacro(body: MacroBody): MacroBody {
  const parsed = macroBodySchema.parse(body);
  parsed.steps.forEach((step, index) => {
    if (step.type === 'keys') {
      for (const key of step.keys) {
        if (keyToBytes(key) === undefined) {
          throw new CorralError('INVALID_KEY', `Step ${index}: unknown key "${key}". Keys look like Enter, Escape, Up, F5, C-c, M-x.`, {
            details: { step: index, key },
          });
        }
      }
    }
    if (step.type === 'waitPattern') compileWaitPattern(step.pattern);
  });
  return parsed;
}

export function putMacro(store: PresetStore, name: string, body: MacroBody): MacroRecord {
  return toRecord(store.putMacro(name, validateMacro(body)));
}

export function getMacro(store: PresetStore, name: string): MacroRecord {
  const stored = store.getMacro(name);
  if (stored === undefined) {
    const names = store.listMacros().map((m) => m.name).slice(0, 20);
    throw new CorralError(
      'MACRO_NOT_FOUND',
      `No macro "${name}". ${names.length === 0 ? 'No macros exist (POST /api/v1/macros).' : `Macros: ${names.join(', ')}.`}`,
      { details: { name } },
    );
  }
  return toRecord(stored);
}

export function listMacros(store: PresetStore): MacroRecord[] {
  return store.listMacros().map(toRecord);
}

export function deleteMacro(store: PresetStore, name: string): void {
  getMacro(store, name);
  store.deleteMacro(name);
}

/**
 * Where the output of what a send typed begins. In a bash or zsh session at its prompt, that is the shell's
 * command-start mark after the send: the terminal's echo of the typed line comes before it, so a pattern that is
 * also in the typed text (`echo BUILD-OK`) matches the command's output, not its echo. Elsewhere (a program reading
 * input, sh, no shell integration) it is the output end at the send, and the echo is visible to a pattern.
 */
class SendWatch {
  private readonly store = new DisposableStore();
  /** Resolves with the offset after the command-start mark; null when none is expected. */
  private commandStart: Promise<number> | null = null;
  private offset: number;

  constructor(private readonly session: Session) {
    this.offset = session.output.endOffset;
  }

  /** Called just before a send or keys step writes. */
  beforeSend(): void {
    this.offset = this.session.output.endOffset;
    this.commandStart = null;
    const driver = this.session.driver;
    const state = this.session.state;
    if (driver.kind !== 'shell' || !driver.detector.active || driver.detector.integration?.marksCommandStart !== true) return;
    if (state !== 'ready' && state !== 'idle') return;
    const from = this.offset;
    this.commandStart = new Promise<number>((resolve) => {
      const listener = driver.detector.onMark((mark) => {
        if (mark.type !== 'C' || mark.start < from) return;
        listener.dispose();
        resolve(mark.end);
      });
      this.store.add(listener);
    });
  }

  /** The offset a pattern wait searches from, once known; 'timeout' when the command did not start in time. */
  async since(timeoutMs: number, signal?: AbortSignal): Promise<number | 'timeout'> {
    if (this.commandStart === null) return this.offset;
    const timer = new AbortController();
    const onAbort = (): void => timer.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([
        this.commandStart,
        sleep(timeoutMs, 'timeout' as const, { signal: timer.signal }).catch(() => 'timeout' as const),
      ]);
    } finally {
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  dispose(): void {
    this.store.dispose();
  }
}

/** Runs the steps in order; stops at the first failure. Aborting (the caller left) fails the current step. */
export async function runMacro(session: Session, macro: MacroRecord, signal?: AbortSignal): Promise<MacroRunResult> {
  const steps: MacroStepResult[] = [];
  // Pattern waits look at output since the last send or keys step (after its command started, in a shell), so
  // output that step caused is not missed and its echo is not mistaken for it.
  const sends = new SendWatch(session);
  try {
    for (const [index, step] of macro.steps.entries()) {
      const started = performance.now();
      const result: MacroStepResult = { index, type: step.type, ok: true, durationMs: 0 };
      try {
        const outcome = await runStep(session, step, sends, signal);
        if (outcome !== undefined) result.outcome = outcome;
        if (outcome === 'timeout') {
          result.ok = false;
          result.error = { code: 'TIMEOUT', message: `Step ${index} (${step.type}) timed out after ${timeoutOf(step)} ms.` };
        } else if (outcome === 'exit' && step.type === 'waitState' && !step.states.includes('terminated')) {
          result.ok = false;
          result.error = { code: 'SESSION_NOT_RUNNING', message: `Step ${index}: the session ended while waiting for ${step.states.join('|')}.` };
        } else if (outcome === 'exit' && step.type === 'waitPattern') {
          result.ok = false;
          result.error = { code: 'SESSION_NOT_RUNNING', message: `Step ${index}: the session ended before /${step.pattern}/ appeared.` };
        }
      } catch (error) {
        result.ok = false;
        result.error = isCorralError(error)
          ? { code: error.code, message: `Step ${index}: ${error.message}` }
          : { code: 'ABORTED', message: `Step ${index}: ${(error as Error).message}` };
      }
      result.durationMs = Math.round(performance.now() - started);
      steps.push(result);
      if (!result.ok) return { macro: macro.name, ok: false, failedStep: index, steps };
    }
    return { macro: macro.name, ok: true, failedStep: null, steps };
  } finally {
    sends.dispose();
  }
}

function timeoutOf(step: MacroStep): number {
  return step.type === 'waitState' || step.type === 'waitPattern' ? step.timeoutMs : 0;
}

async function runStep(session: Session, step: MacroStep, sends: SendWatch, signal: AbortSignal | undefined): Promise<string | undefined> {
  switch (step.type) {
    case 'send':
      sends.beforeSend();
      session.sendInput(step.text, undefined);
      return undefined;
    case 'keys':
      sends.beforeSend();
      session.sendInput(undefined, step.keys);
      return undefined;
    case 'waitState':
      return session.waitFor({ states: step.states }, step.timeoutMs, signal);
    case 'waitPattern': {
      const pattern = compileWaitPattern(step.pattern);
      const started = performance.now();
      const since = await sends.since(step.timeoutMs, signal);
      if (since === 'timeout') return 'timeout';
      const left = Math.max(0, Math.round(step.timeoutMs - (performance.now() - started)));
      return session.waitFor({ pattern, since, screen: step.screen }, left, signal);
    }
    case 'sleep':
      await sleep(step.ms, undefined, { signal });
      return undefined;
  }
}
