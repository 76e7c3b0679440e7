// Starts a corral-holder without blocking the daemon: native.holderSpawn (native/holder_spawn.c) only posix_spawns
// it, on a worker thread, and hands back its end of a socket pair; the configuration and the HELLO are written and
// the READY line read on the event loop, so a daemon starting fifty sessions keeps serving while their holders start
// the programs in parallel. The socket then stays the daemon's connection to the holder.
// Must never leave a holder running that did not report READY in time (it is killed through its pidfd, which
// cannot hit a reused pid), and never accept a report from another process than the one it spawned.

import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { CorralError } from '../../protocol/errors.js';
import { native } from '../process/nativeBinding.js';
import { parseReadyLine, type HolderReadyLine } from './holderProtocol.js';

/** The holder's report is one short line; anything longer is not a holder talking. */
const MAX_REPORT_BYTES = 4096;
const SIGKILL = 9;
/** A holder's start refused by the disk rather than by anything about the session. */
const DISK_FULL_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);

/** A holder that reported READY, and the socket the daemon stays connected through. */
export interface LaunchedHolder {
  ready: Extract<HolderReadyLine, { ok: true }>;
  /** Paused; the HELLO is already sent on it. Whoever takes it resumes it after subscribing to 'data'. */
  socket: Socket;
  /** Bytes that followed the READY line in the same read: the first frames. */
  rest: Buffer;
}

/**
 * Runs `path argv[1..]` as a holder with `config`, then `hello`, on the socket pair that is its stdin and stdout,
 * and resolves with its READY report (holder pid checked against the one spawned) and the socket, which is then
 * the holder's connection to this daemon (no connect to its listening socket, no second handshake round trip).
 * Rejects with SPAWN_FAILED when it reports an ERROR, says nothing, or takes longer than `timeoutMs` (then it is
 * killed; the orphan reaper collects every holder that exits).
 */
export async function launchHolder(path: string, argv: string[], config: Buffer, hello: Buffer, timeoutMs: number, what: string): Promise<LaunchedHolder> {
  let launched: { pid: number; pidfd: number; fd: number };
  try {
    launched = await native.holderSpawn(path, argv);
  } catch (error) {
    throw new CorralError('SPAWN_FAILED', `Cannot start a holder for ${what}: ${(error as Error).message}`, { cause: error });
  }
  const { pid, pidfd } = launched;
  const socket = new Socket({ fd: launched.fd, readable: true, writable: true });
  socket.write(Buffer.concat([config, hello]));
  return new Promise((resolve, reject) => {
    let report: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (ok: boolean, outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (ok) socket.pause();
      else socket.destroy();
      // A pidfd's close never blocks: no round trip through the thread pool for it.
      if (pidfd >= 0) closeSync(pidfd);
      outcome();
    };
    const fail = (why: string): void => finish(false, () => reject(new CorralError('SPAWN_FAILED', `Cannot start ${what}: ${why}`)));
    const judge = (line: string, rest: Buffer): void => {
      const ready = parseReadyLine(line);
      if (ready === null) return fail('the holder reported nothing');
      if (!ready.ok) {
        // Its socket (or its directory) could not be made: the data dir's disk has no room or no free inode.
        if (DISK_FULL_ERRNOS.has(ready.errno)) {
          return finish(false, () =>
            reject(new CorralError('STORAGE_FULL', `Cannot start ${what}: the disk holding the data dir is full (no space or no free inodes): the holder's ${ready.step} failed with ${ready.errno}.`)),
          );
        }
        return fail(`${ready.step} failed with ${ready.errno}`);
      }
      if (ready.holderPid !== pid) return fail(`the report came from pid ${ready.holderPid}, not the holder ${pid}`);
      finish(true, () => resolve({ ready, socket, rest }));
    };
    const timer = setTimeout(() => {
      killHolder(pidfd);
      fail(`the holder did not report within ${timeoutMs} ms`);
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      report = report.length === 0 ? chunk : Buffer.concat([report, chunk]);
      const end = report.indexOf(0x0a);
      if (end >= 0) judge(report.subarray(0, end + 1).toString('latin1'), report.subarray(end + 1));
      else if (report.length > MAX_REPORT_BYTES) {
        killHolder(pidfd);
        fail('the holder sent an overlong report');
      }
    };
    // EOF without a full line: a holder that died (its exit status goes to the orphan reaper).
    const onEnd = (): void => judge(report.toString('latin1'), Buffer.alloc(0));
    // EPIPE / ECONNRESET: the holder died before reading it all; its report (or its silence) says why.
    const onError = (error: Error): void => fail(`talking to the holder failed: ${error.message}`);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}

function killHolder(pidfd: number): void {
  if (pidfd < 0) return;
  try {
    native.pidfdSendSignal(pidfd, SIGKILL);
  } catch {
    // ESRCH: it exited on its own meanwhile.
  }
}
