// exec in a shell session: writes a command, finds its output between the shell's own marks (command start →
// command end, the echo and prompts excluded), its exit code and cwd, and records it in the command history.
// It never types sentinels into the terminal and never guesses a prompt by regex. One exec at a time per
// session: exec on a busy session is refused with SESSION_BUSY (the caller waits for `idle`, then retries).

import { performance } from 'node:perf_hooks';
import { CorralError } from '../../protocol/errors.js';
import { DisposableStore, toDisposable } from '../../common/lifecycle.js';
import type { ShellExecRequest, ShellExecResult } from '../../protocol/api.js';
import { toPlainText } from '../output/textView.js';
import type { Session } from '../Session.js';
import type { CommandHistory } from '../history/CommandHistory.js';
import type { ShellIntegration } from './shellIntegration.js';
import type { ShellIntegrationDetector } from './ShellIntegrationDetector.js';
import { stripOwnMarks, type ShellMark } from './shellMarks.js';

/** Default exec timeout: long enough for a build step, short enough that a forgotten call returns. */
const DEFAULT_SHELL_EXEC_TIMEOUT_MS = 30_000;
/** Default output returned inline; the rest stays readable through the session's output (offsets in the reply). */
const DEFAULT_SHELL_EXEC_OUTPUT_BYTES = 1024 * 1024;

const BRACKETED_PASTE_START = '\x1b[200~';
const BRACKETED_PASTE_END = '\x1b[201~';
// zsh's PROMPT_SP (the "missing newline" mark, spaces to the margin, CR space CR) comes before its precmd
// hook, so before our end mark: it is the shell's, not the command's.
// eslint-disable-next-line no-control-regex
const ZSH_PROMPT_SP_TAIL = /(?:\x1b\[[0-9;]*m)*[^\r\n\x1b]?(?:\x1b\[[0-9;]*m)* *\r \r$/;

interface Region {
  start: number;
  end: number;
}

/** The exec's view of one command: regions of output that belong to it, its end, exit and cwd. */
class CommandTracker {
  readonly regions: Region[] = [];
  private openAt: number | null;
  private promptsSeen = 0;
  sawStart = false;
  exitCode: number | null = null;
  cwd: string | null = null;
  endedAt: number | null = null;
  /** Offset of the end mark: everything the command wrote lies before it. */
  endOffset: number | null = null;
  done = false;

  constructor(
    private readonly marksCommandStart: boolean,
    private readonly expectedPrompts: number,
    writeOffset: number,
  ) {
    // sh/dash: no start mark; the echo of the written lines comes first and is removed later.
    this.openAt = marksCommandStart ? null : writeOffset;
  }

  /** Returns true when the command is over (its last prompt is showing). */
  onMark(mark: ShellMark): boolean {
    if (this.done) return true;
    switch (mark.type) {
      case 'C':
        this.sawStart = true;
        if (this.openAt === null && this.endOffset === null) this.openAt = mark.end;
        break;
      case 'D':
        this.close(mark.start);
        this.exitCode = mark.exitCode;
        this.endedAt = performance.now();
        this.endOffset = mark.start;
        break;
      case 'P':
        this.cwd = mark.cwd;
        break;
      case 'F':
        this.close(mark.start);
        this.promptsSeen++;
        break;
      case 'A':
        this.close(mark.start);
        this.promptsSeen++;
        // bash/zsh: the whole (pasted) command line is one prompt cycle; sh: one prompt per line written.
        if (this.marksCommandStart ? this.endOffset !== null : this.promptsSeen >= this.expectedPrompts) this.done = true;
        break;
      case 'B':
        // sh: the next line (already echoed at write time) runs after this prompt.
        if (!this.marksCommandStart && this.promptsSeen < this.expectedPrompts) this.openAt = mark.end;
        break;
    }
    return this.done;
  }

  private close(at: number): void {
    if (this.openAt !== null && at > this.openAt) this.regions.push({ start: this.openAt, end: at });
    this.openAt = null;
  }

  /** Moves the start of the first region (closed or still open) from `from` to `to`. */
  moveStart(from: number, to: number): void {
    const first = this.regions[0];
    if (first !== undefined) {
      if (first.start === from) first.start = Math.min(first.end, to);
    } else if (this.openAt === from) {
      this.openAt = to;
    }
  }

  /** Regions so far, with the still-open one up to `end` (a timed-out command's output so far). */
  regionsUpTo(end: number): Region[] {
    return this.openAt !== null && end > this.openAt ? [...this.regions, { start: this.openAt, end }] : [...this.regions];
  }
}

/** The shell driver's detector and the integration injected at spawn, or SHELL_INTEGRATION_UNAVAILABLE. */
function shellOf(session: Session): { detector: ShellIntegrationDetector; integration: ShellIntegration } {
  const driver = session.driver;
  const integration = driver.kind === 'shell' ? driver.detector.integration : null;
  if (driver.kind !== 'shell' || integration === null) {
    throw new CorralError(
      'SHELL_INTEGRATION_UNAVAILABLE',
      `Session ${session.id} (profile ${session.spec.profile.name}) has no shell integration: exec needs a bash, zsh or sh ` +
        'session of the shell profile. Use POST /sessions/{id}/input to type into it, or POST /exec for a one-shot command.',
      { details: { profile: session.spec.profile.name } },
    );
  }
  return { detector: driver.detector, integration };
}

/** What to write for `command`: one accepted line (bracketed paste where the shell takes it), then Enter. */
function inputFor(command: string, bracketedPaste: boolean): { data: string; lines: number } {
  const text = command.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  // Control characters (Tab would complete, C-v quote) and newlines go through a paste, taken literally.
  // eslint-disable-next-line no-control-regex
  const needsPaste = /[\x00-\x1f\x7f]/.test(text);
  if (bracketedPaste) {
    return { data: needsPaste ? `${BRACKETED_PASTE_START}${text}${BRACKETED_PASTE_END}\r` : `${text}\r`, lines: 1 };
  }
  return { data: `${text}\n`, lines: text.split('\n').length };
}


export async function shellExec(
  session: Session,
  history: CommandHistory,
  request: ShellExecRequest,
  signal?: AbortSignal,
): Promise<ShellExecResult> {
  const { detector, integration } = shellOf(session);
  const timeoutMs = request.timeoutMs ?? DEFAULT_SHELL_EXEC_TIMEOUT_MS;
  const started = performance.now();
  if (session.state === 'initializing') {
    // A shell just created: its first prompt is moments away.
    await session.waitFor({ states: ['ready', 'idle'] }, timeoutMs, signal);
  }
  if (!detector.active && detector.unavailableReason === null) {
    throw new CorralError(
      'INVALID_STATE',
      `Session ${session.id} has not shown its first prompt within ${timeoutMs} ms (state ${session.state}); wait for ready, then retry.`,
      { details: { state: session.state } },
    );
  }
  if (!detector.active) {
    throw new CorralError(
      'SHELL_INTEGRATION_UNAVAILABLE',
      `Session ${session.id} shows no shell-integration marks (${detector.unavailableReason ?? 'no prompt yet'}); exec cannot find command boundaries.`,
      { details: { state: session.state } },
    );
  }
  if (detector.execClaimed || (session.state !== 'ready' && session.state !== 'idle')) {
    throw new CorralError(
      'SESSION_BUSY',
      `Session ${session.id} is ${session.state}${detector.execClaimed ? ' with an exec still running' : ''}: exec runs only at a prompt. ` +
        'Wait for idle (POST /sessions/{id}/wait {"states":["idle"]}), or interrupt the running command, then retry.',
      { details: { state: session.state } },
    );
  }
  detector.execClaimed = true;
  const { data, lines } = inputFor(request.command, integration.bracketedPaste);
  const writeOffset = session.output.endOffset;
  const tracker = new CommandTracker(integration.marksCommandStart, lines, writeOffset);
  let seq = 0;
  const startedAt = new Date().toISOString();
  const startCwd = detector.cwd;
  let recorded = false;
  const record = (finished: boolean, timedOut: boolean): void => {
    skipEcho();
    const outputStart = tracker.regions[0]?.start ?? (tracker.regionsUpTo(session.output.endOffset)[0]?.start ?? writeOffset);
    const durationMs = tracker.endedAt === null ? null : Math.round(tracker.endedAt - writtenAt);
    if (!recorded) {
      recorded = true;
      seq = history.begin({
        sessionId: session.id,
        kind: 'exec',
        text: request.command,
        startedAt,
        cwd: startCwd,
        outputStart,
        timedOut,
      });
    }
    if (finished) {
      history.finish(session.id, seq, {
        endedAt: new Date().toISOString(),
        exitCode: tracker.exitCode,
        cwd: tracker.cwd ?? startCwd,
        outputEnd: tracker.endOffset,
        timedOut,
        durationMs,
      });
    }
  };

  // sh/dash: the terminal echoes the written lines (LF as CRLF) before any output; once seen, skip them.
  const echo = integration.marksCommandStart ? null : Buffer.from(data.replace(/\n/g, '\r\n'));
  const skipEcho = (): void => {
    if (echo === null) return;
    if (session.output.read(writeOffset, echo.length).data.equals(echo)) tracker.moveStart(writeOffset, writeOffset + echo.length);
  };
  const lifetime = new DisposableStore();
  let timedOut = false;
  const finished = new Promise<'done' | 'exit'>((resolve) => {
    lifetime.add(
      detector.onMark((mark) => {
        if (mark.start < writeOffset) return;
        if (tracker.onMark(mark)) resolve('done');
      }),
    );
    lifetime.add(session.onExit(() => resolve('exit')));
  });
  // The command outlives a timed-out exec: its history record is finished (and exec released) when it ends.
  void finished.then(() => {
    lifetime.dispose();
    detector.execClaimed = false;
    record(true, timedOut);
  });
  const writtenAt = performance.now();
  try {
    session.write(data);
  } catch (error) {
    lifetime.dispose();
    detector.execClaimed = false;
    throw error;
  }

  const outcome = await raceTimeout(finished, timeoutMs - (performance.now() - started), signal);
  timedOut = outcome === 'timeout';
  if (timedOut) record(false, true);
  skipEcho();
  const end = tracker.endOffset ?? session.output.endOffset;
  const regions = tracker.regionsUpTo(end);
  const max = request.maxOutputBytes ?? DEFAULT_SHELL_EXEC_OUTPUT_BYTES;
  const { bytes, truncated } = collect(session, regions, max);
  let text = stripOwnMarks(bytes, integration.nonce).toString('utf8');
  if (integration.shell === 'zsh' && !timedOut) text = text.replace(ZSH_PROMPT_SP_TAIL, '');
  return {
    output: request.format === 'raw' ? text : toPlainText(text),
    exitCode: timedOut ? null : tracker.exitCode,
    durationMs: Math.round((tracker.endedAt ?? performance.now()) - writtenAt),
    cwd: tracker.cwd ?? detector.cwd,
    timedOut,
    truncated,
    seq,
    outputStart: regions[0]?.start ?? end,
    outputEnd: end,
  };
}

/** Resolves with the promise's value, or 'timeout' (also when the caller aborts: the command keeps running). */
async function raceTimeout<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | 'timeout'> {
  const store = new DisposableStore();
  try {
    return await Promise.race([
      promise,
      new Promise<'timeout'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
        store.add(toDisposable(() => clearTimeout(timer)));
        if (signal !== undefined) {
          const onAbort = (): void => resolve('timeout');
          if (signal.aborted) onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          store.add(toDisposable(() => signal.removeEventListener('abort', onAbort)));
        }
      }),
    ]);
  } finally {
    store.dispose();
  }
}

function collect(session: Session, regions: Region[], max: number): { bytes: Buffer; truncated: boolean } {
  const parts: Buffer[] = [];
  let total = 0;
  let truncated = false;
  for (const region of regions) {
    let at = region.start;
    while (at < region.end) {
      if (total >= max) return { bytes: Buffer.concat(parts), truncated: true };
      const read = session.output.read(at, Math.min(region.end - at, max - total));
      if (read.gap > 0) truncated = true;
      if (read.data.length === 0) break;
      parts.push(read.data);
      total += read.data.length;
      at = read.nextOffset;
    }
  }
  return { bytes: Buffer.concat(parts), truncated };
}
