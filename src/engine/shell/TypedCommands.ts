// Records the commands a person runs in a shell session (typed in attach or the dashboard, or sent through
// `input`) in the command history, as exec records its own: text, exit code, cwd, duration and output offsets,
// all from the shell's marks (command start C, end D with its status, cwd P, prompt A). The text is the line as the
// terminal echoed it: the output between the first input after a prompt and the command-start mark, as text.
// Commands exec writes are exec's (it holds the shell while they run); sh/dash print no command-start mark, so
// only bash and zsh sessions record typed commands.

import { performance } from 'node:perf_hooks';
import { DisposableStore, type Disposable } from '../../common/lifecycle.js';
import type { CommandHistory } from '../history/CommandHistory.js';
import { toPlainText } from '../output/textView.js';
import type { Session } from '../Session.js';
import type { ShellMark } from './shellMarks.js';
import type { ShellIntegrationDetector } from './ShellIntegrationDetector.js';

/** Most of an echoed command line read back for its text (a longer paste is recorded by its first 64 KiB). */
const MAX_ECHO_BYTES = 64 * 1024;

interface OpenCommand {
  seq: number;
  startedMono: number;
  exitCode: number | null;
  endOffset: number | null;
}

export function recordTypedCommands(session: Session, detector: ShellIntegrationDetector, history: CommandHistory): Disposable {
  const integration = detector.integration;
  const store = new DisposableStore();
  if (integration === null || !integration.marksCommandStart) return store;
  /** Where the echo of the line being typed starts: the output end at the first input after a prompt. */
  let echoFrom: number | null = null;
  let atPrompt = false;
  let open: OpenCommand | null = null;

  const finish = (): void => {
    if (open === null) return;
    history.finish(session.id, open.seq, {
      endedAt: new Date().toISOString(),
      exitCode: open.exitCode,
      cwd: detector.cwd,
      outputEnd: open.endOffset ?? session.output.endOffset,
      timedOut: false,
      durationMs: Math.round(performance.now() - open.startedMono),
    });
    open = null;
  };

  const onMark = (mark: ShellMark): void => {
    switch (mark.type) {
      case 'A':
        finish();
        atPrompt = true;
        echoFrom = null;
        break;
      case 'C': {
        const from = echoFrom;
        atPrompt = false;
        echoFrom = null;
        // exec holds the shell while its command runs and records it itself.
        if (detector.execClaimed || from === null || mark.start <= from) break;
        const echo = session.output.read(from, Math.min(mark.start - from, MAX_ECHO_BYTES));
        const text = toPlainText(echo.data.toString('utf8')).trim();
        if (text === '') break;
        const seq = history.begin({
          sessionId: session.id,
          kind: 'input',
          text,
          startedAt: new Date().toISOString(),
          cwd: detector.cwd,
          outputStart: mark.end,
          timedOut: false,
        });
        open = { seq, startedMono: performance.now(), exitCode: null, endOffset: null };
        break;
      }
      case 'D':
        if (open !== null) {
          open.exitCode = mark.exitCode;
          open.endOffset = mark.start;
        }
        break;
      default:
        break;
    }
  };

  store.add(detector.onMark(onMark));
  store.add(
    detector.onInputWritten(() => {
      if (atPrompt && echoFrom === null && !detector.execClaimed) echoFrom = session.output.endOffset;
    }),
  );
  store.add(session.onExit(() => finish()));
  return store;
}
