// A spinner with elapsed time on stderr while a command waits, only when stderr is a terminal.
// It never writes to stdout and never prints anything when stderr is a pipe or a file.

import { formatDuration } from './duration.js';

/** Ten frames a second reads as motion without costing anything measurable. */
const FRAME_INTERVAL_MS = 100;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  /** Clears the line; safe to call more than once. */
  stop(): void;
}

export function startProgress(stream: NodeJS.WriteStream, label: string): Progress {
  if (stream.isTTY !== true) return { stop: () => undefined };
  const started = performance.now();
  let frame = 0;
  const draw = (): void => {
    // Whole seconds: a millisecond counter flickering ten times a second is noise.
    const elapsed = formatDuration(Math.floor((performance.now() - started) / 1000) * 1000).replace(/^0ms$/, '0s');
    stream.write(`\r\u001b[K${FRAMES[frame % FRAMES.length] ?? ''} ${label} ${elapsed}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, FRAME_INTERVAL_MS);
  // The spinner must never keep the process alive on its own.
  timer.unref();
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stream.write('\r\u001b[K');
    },
  };
}
