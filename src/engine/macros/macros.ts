// Macros: named, stored step lists (send text, press keys, wait for a state or a pattern, sleep) run on any
// session, answering a result per step. A wait that times out fails the run at that step, clearly; later steps
// do not run. It only drives a session through its public input and wait calls.

import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { macroBodySchema, type MacroBody, type MacroRunResult, type MacroStep, type MacroStepResult } from '../../protocol/api.js';
import { CorralError, isCorralError } from '../../protocol/errors.js';
import { keyToBytes } from '../../protocol/keys.js';
import type { MacroRecord } from '../../protocol/apiReplies.js';
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

/** Runs the steps in order; stops at the first failure. Aborting (the caller left) fails the current step. */
export async function runMacro(session: Session, macro: MacroRecord, signal?: AbortSignal): Promise<MacroRunResult> {
  const steps: MacroStepResult[] = [];
  // Pattern waits look at output since the last send or keys step, so output that step caused is not missed.
  let since = session.output.endOffset;
  for (const [index, step] of macro.steps.entries()) {
    const started = performance.now();
    const result: MacroStepResult = { index, type: step.type, ok: true, durationMs: 0 };
    try {
      const outcome = await runStep(session, step, since, signal, (offset) => {
        since = offset;
      });
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
}

function timeoutOf(step: MacroStep): number {
  return step.type === 'waitState' || step.type === 'waitPattern' ? step.timeoutMs : 0;
}

async function runStep(
  session: Session,
  step: MacroStep,
  since: number,
  signal: AbortSignal | undefined,
  sent: (offset: number) => void,
): Promise<string | undefined> {
  switch (step.type) {
    case 'send':
      sent(session.output.endOffset);
      session.sendInput(step.text, undefined);
      return undefined;
    case 'keys':
      sent(session.output.endOffset);
      session.sendInput(undefined, step.keys);
      return undefined;
    case 'waitState':
      return session.waitFor({ states: step.states }, step.timeoutMs, signal);
    case 'waitPattern':
      return session.waitFor({ pattern: compileWaitPattern(step.pattern), since, screen: step.screen }, step.timeoutMs, signal);
    case 'sleep':
      await sleep(step.ms, undefined, { signal });
      return undefined;
  }
}
