// `corral attach <id>`: this terminal becomes the session's terminal (raw mode, keystrokes, resize on SIGWINCH)
// until the detach keys (default Ctrl-], configurable) or the session's end. Must always restore the terminal.
//
// On attach the screen is redrawn from the session's rendered screen (a `screen` frame), not by replaying
// megabytes of output; live output then continues from the screen's offset. Several people can attach at once:
// each sees the same output; the session takes the smallest of their sizes (tmux's rule), or with --take-size this
// terminal's until it detaches.

import type { Corral } from '../../client/Corral.js';
import { EXIT, UsageError, type CliIO } from '../cliCommand.js';
import { client, clientCommand, sessionArg } from './commandKit.js';

/** Ctrl-] like telnet: rarely needed by shells or agent TUIs, one keystroke to leave. */
const DEFAULT_DETACH_KEYS = 'C-]';

/**
 * Parses a detach sequence: comma-separated keys, each `C-<char>` (a control character) or one literal
 * character, e.g. `C-]`, `C-b,d` (tmux-like), `C-p,C-q` (docker-like).
 */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const part of spec.split(',')) {
    const key = part.trim();
    const control = /^C-(.)$/i.exec(key);
    if (control?.[1] !== undefined) {
      const code = control[1].toUpperCase().charCodeAt(0);
      if (code < 0x40 || code > 0x5f) throw new UsageError(`--detach-keys: no control key for "${key}" (use C-@ … C-_, C-a … C-z)`);
      bytes.push(code & 0x1f);
    } else if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
    } else {
      throw new UsageError(`--detach-keys: "${key}" is not a key (use C-x or a single character, comma-separated)`);
    }
  }
  if (bytes.length === 0) throw new UsageError('--detach-keys: empty');
  return Buffer.from(bytes);
}

/**
 * Watches keystrokes for the detach sequence. Bytes that might start it are held back; once the sequence
 * diverges they are passed on, so typing the first key of a multi-key sequence still reaches the session.
 */
export class DetachMatcher {
  private held = 0;

  constructor(private readonly sequence: Buffer) {}

  /** Returns the bytes to forward and whether the sequence completed (bytes after it are dropped). */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.sequence[this.held]) {
        this.held++;
        if (this.held === this.sequence.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      // Diverged: release what was held, then see whether this byte starts the sequence again.
      for (let i = 0; i < this.held; i++) out.push(this.sequence[i] ?? 0);
      this.held = byte === this.sequence[0] ? 1 : 0;
      if (this.held === 0) out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

const USAGE = `Usage: corral attach <id> [--read-only] [--detach-keys KEYS] [--no-resize | --take-size] [--json]

This terminal becomes the session's terminal until the detach keys, the end of standard input or the session's end.
  --detach-keys  comma-separated keys, each C-x or one character: C-] (default, or CORRAL_DETACH_KEYS), C-b,d, C-p,C-q
  --read-only    watch without typing
  --no-resize    leave the session's size alone (do not vote)
  --take-size    the session takes this terminal's size until you detach (else: the smallest attached client's)`;

export const attachCommand = clientCommand({
  name: 'attach',
  summary: 'attach this terminal to a session (detach: Ctrl-], --detach-keys; --read-only)',
  usage: USAGE,
  options: {
    'read-only': { type: 'boolean', default: false },
    'detach-keys': { type: 'string' },
    'no-resize': { type: 'boolean', default: false },
    'take-size': { type: 'boolean', default: false },
  },
  run: async ({ values, positionals }, io) => {
    const id = await sessionArg(client(values, io), positionals, USAGE);
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"\n${USAGE}`);
    const detachLabel = values['detach-keys'] ?? io.env.CORRAL_DETACH_KEYS ?? DEFAULT_DETACH_KEYS;
    const detachKeys = parseDetachKeys(detachLabel);
    const api = client(values, io);
    // Fails early with the REST error (unknown id, ended session) before touching the terminal.
    await api.sessions.get(id);
    return attach(io, api, id, {
      readOnly: values['read-only'],
      resize: !values['no-resize'],
      takeSize: values['take-size'],
      detachKeys,
      detachLabel,
    });
  },
});

/**
 * Written on every detach, whatever the session did: a program killed mid-screen (vi, an agent TUI) or one whose
 * mode switches arrived as plain output leaves modes we never saw, so nothing is tracked and everything is reset:
 * alternate screen, every mouse reporting mode and encoding, application cursor keys, application keypad,
 * bracketed paste, a hidden cursor, colours.
 */
const TERMINAL_RESET =
  '\x1b[?1049l' +
  '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l' +
  '\x1b[?1l' +
  '\x1b>' +
  '\x1b[?2004l' +
  '\x1b[?25h' +
  '\x1b[0m';

interface AttachOptions {
  readOnly: boolean;
  resize: boolean;
  takeSize: boolean;
  detachKeys: Buffer;
  detachLabel: string;
}

function attach(io: CliIO, api: Corral, id: string, options: AttachOptions): Promise<number> {
  // A dropped connection (the daemon restarting: sessions outlive it) is reopened from the last byte seen, with a
  // visible line saying so; the attachment gives up after its retries (about 30 s) and the close is reported.
  const attachment = api.sessions.attach(id, { screen: true, reconnect: true, ...(options.readOnly ? { mode: 'read-only' } : {}) });
  const { stdin, stdout } = io;
  const matcher = new DetachMatcher(options.detachKeys);
  let rawMode = false;

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number, message: string | null): void => {
      if (finished) return;
      finished = true;
      stdin.off('data', onInput);
      stdin.off('end', onEnd);
      process.off('SIGWINCH', onResize);
      if (rawMode && stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      stdout.write(TERMINAL_RESET);
      if (message !== null) stdout.write(`\r\n${message}\r\n`);
      // Nothing the session sends after this may reach the terminal we just restored (close() silences every event).
      attachment.close();
      resolve(code);
    };
    const sendSize = (): void => {
      if (!options.resize || options.readOnly || !stdout.isTTY) return;
      attachment.resize(stdout.columns, stdout.rows, options.takeSize);
    };
    const onResize = (): void => sendSize();
    // Keys typed before the attachment is open wait here (a user who types at once loses nothing), then go in order.
    let pending: Buffer[] | null = [];
    const onInput = (chunk: Buffer | string): void => {
      const { forward, detach } = matcher.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (forward.length > 0 && !options.readOnly) {
        if (pending !== null) pending.push(forward);
        else attachment.write(forward);
      }
      if (detach) finish(EXIT.ok, `[detached from ${id}]`);
    };
    // Nothing more can be typed once standard input ends (`echo cmd | corral attach`): detach rather than hang.
    let endedBeforeOpen = false;
    const onEnd = (): void => {
      // Input that ended while connecting is sent first, once the attachment opens.
      if (pending !== null) endedBeforeOpen = true;
      else finish(EXIT.ok, `[detached from ${id}: end of input]`);
    };

    // Raw from the start: keys typed while the connection opens are neither echoed by the local terminal nor
    // held in its line buffer; they wait in `pending`.
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      rawMode = true;
    }
    stdin.on('data', onInput);
    stdin.once('end', onEnd);
    stdin.resume();
    attachment.opened.then(
      () => {
        if (finished) return;
        process.on('SIGWINCH', onResize);
        sendSize();
        for (const keys of pending ?? []) attachment.write(keys);
        pending = null;
        if (endedBeforeOpen) {
          finish(EXIT.ok, `[detached from ${id}: end of input]`);
          return;
        }
        // Said once the attachment is open: what is typed from here on reaches the session.
        io.stderr.write(`[attached to ${id}; detach with ${options.detachLabel}${options.readOnly ? '; read-only' : ''}]\r\n`);
      },
      // A refusal or an unreachable daemon: `closed` carries the same error and says how to end.
      () => undefined,
    );
    attachment.onOutput((frame) => stdout.write(frame.data));
    attachment.onReconnect(({ attempt }) => {
      if (!finished) stdout.write(`\r\n[corral: connection lost; reconnecting… (attempt ${attempt})]\r\n`);
    });
    attachment.onScreen((frame) => stdout.write(renderScreen(frame.lines, frame.cursor, frame.alternateScreen)));
    attachment.onExit((exit) => {
      const how = exit.signal !== null ? exit.signal : `code ${exit.code ?? '?'}`;
      finish(EXIT.ok, `[session ${id} ended: ${exit.reason}, ${how}]`);
    });
    attachment.onFrameRefused((frame) => {
      // Not shown: READ_ONLY and NOT_SUPPORTED_FOR_KIND answer frames we send on our own (keys of a read-only
      // attach, our size to a pipe session that has no terminal); the user can do nothing about them.
      if (frame.code !== 'READ_ONLY' && frame.code !== 'NOT_SUPPORTED_FOR_KIND') stdout.write(`\r\n[corral: ${frame.message}]\r\n`);
    });
    void attachment.closed.then((close) => {
      if (close.error !== null) {
        const code = close.error.status === null ? EXIT.unreachable : close.error.status === 404 ? EXIT.notFound : EXIT.failure;
        finish(code, `corral: ${close.error.message}`);
      } else {
        finish(close.code === 1000 ? EXIT.ok : EXIT.failure, `[connection closed: ${close.code} ${close.reason}]`);
      }
    });
  });
}

/** Clears the terminal and draws the rendered screen rows, then puts the cursor where the session has it. */
function renderScreen(lines: string[], cursor: { x: number; y: number }, alternateScreen: boolean): string {
  let out = alternateScreen ? '\x1b[?1049h' : '';
  out += '\x1b[0m\x1b[H\x1b[2J';
  lines.forEach((line, row) => {
    out += `\x1b[${row + 1};1H${line.replace(/\s+$/, '')}`;
  });
  return out + `\x1b[${cursor.y + 1};${cursor.x + 1}H`;
}
