// Starts a corral-holder without blocking the daemon: native.holderSpawn (native/holder_spawn.c) only posix_spawns
// it, on a worker thread, and hands back its pipes; the configuration is written and the READY line read on the event loop, so a daemon
// starting fifty sessions keeps serving while their holders start the programs in parallel.
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

/**
 * Runs `path argv[1..]` as a holder with `config` on its stdin and resolves with its READY report (holder pid
 * checked against the one spawned). Rejects with SPAWN_FAILED when it reports an ERROR, says nothing, or takes
 * longer than `timeoutMs` (then it is killed; the orphan reaper collects every holder that exits).
 */
export async function launchHolder(path: string, argv: string[], config: Buffer, timeoutMs: number, what: string): Promise<Extract<HolderReadyLine, { ok: true }>> {
  let launched: { pid: number; pidfd: number; stdin: number; stdout: number };
  try {
    launched = await native.holderSpawn(path, argv);
  } catch (error) {
    throw new CorralError('SPAWN_FAILED', `Cannot start a holder for ${what}: ${(error as Error).message}`, { cause: error });
  }
  const { pid, pidfd } = launched;
  const input = new Socket({ fd: launched.stdin, readable: false, writable: true });
  const output = new Socket({ fd: launched.stdout, readable: true, writable: false });
  // EPIPE: the holder died before reading it all; its report (or its silence) says why.
  input.on('error', () => undefined);
  input.end(config);
  return new Promise((resolve, reject) => {
    let report = '';
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.destroy();
      output.destroy();
      // A pidfd's close never blocks: no round trip through the thread pool for it.
      if (pidfd >= 0) closeSync(pidfd);
      outcome();
    };
    const fail = (why: string): void => finish(() => reject(new CorralError('SPAWN_FAILED', `Cannot start ${what}: ${why}`)));
    const judge = (line: string): void => {
      const ready = parseReadyLine(line);
      if (ready === null) return fail('the holder reported nothing');
      if (!ready.ok) return fail(`${ready.step} failed with ${ready.errno}`);
      if (ready.holderPid !== pid) return fail(`the report came from pid ${ready.holderPid}, not the holder ${pid}`);
      finish(() => resolve(ready));
    };
    const timer = setTimeout(() => {
      killHolder(pidfd);
      fail(`the holder did not report within ${timeoutMs} ms`);
    }, timeoutMs);
    output.setEncoding('latin1');
    output.on('data', (chunk: string) => {
      report += chunk;
      const end = report.indexOf('\n');
      if (end >= 0) judge(report.slice(0, end + 1));
      else if (report.length > MAX_REPORT_BYTES) {
        killHolder(pidfd);
        fail('the holder sent an overlong report');
      }
    });
    // EOF without a full line: a holder that died (its exit status goes to the orphan reaper).
    output.on('end', () => judge(report));
    output.on('error', (error) => fail(`reading the holder's report failed: ${error.message}`));
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
