// The processes that belong to one daemon's data dir, found without that daemon: its sessions' holders and every
// process of those sessions. A holder outlives its daemon by design (issue 14) and ignores SIGTERM, so a test that
// leaves a daemon down (kill -9) leaves them running; only this finds them then. Everything is named by identity
// (pid + start time) and killed through a pidfd, so a recycled pid is never hit.
//
// A holder is found by its listening socket, `<dataDir>/holders/<session>.sock` (/proc/net/unix keeps the path even
// after the file is gone), held open by a process whose argv[0] is corral-holder; a session's processes are the
// holder's descendants (it is their subreaper) and any process carrying the session's marker env (one that got away).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isAlive, type ProcessIdentity } from '../../src/engine/process/ProcessIdentity.js';
import { childPids, listPids, readEnvironValue, readProcStat } from '../../src/engine/process/procfs.js';
import { SESSION_MARKER_KEY } from '../../src/engine/process/processTree.js';
import { signalProcess } from '../../src/engine/process/signals.js';

/** A live process of a data dir's sessions. */
export interface DataDirProcess extends ProcessIdentity {
  kind: 'holder' | 'program';
  comm: string;
  session: string | undefined;
}

/** /proc/net/unix flag of a listening socket (__SO_ACCEPTCON). */
const LISTENING = 0x10000;

/** Inodes of the sockets listening under `<dataDir>/holders/`, with the session each is named after. */
function holderSockets(dataDir: string): Map<string, string> {
  const prefix = join(dataDir, 'holders') + '/';
  const sockets = new Map<string, string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [flags, inode, path] = [fields[3], fields[6], fields[7]];
    if (path === undefined || inode === undefined || !path.startsWith(prefix)) continue;
    if ((Number.parseInt(flags ?? '0', 16) & LISTENING) === 0) continue;
    sockets.set(inode, basename(path, '.sock'));
  }
  return sockets;
}

/** Reads that fail because the process went away (or is not ours to read) answer `fallback`. */
function tryRead<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function argvOf(pid: number): string[] {
  return tryRead(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'), []);
}

/** The socket inodes `pid` holds open. */
function socketInodes(pid: number): string[] {
  const inodes: string[] = [];
  for (const fd of tryRead(() => readdirSync(`/proc/${pid}/fd`), [])) {
    const match = /^socket:\[(\d+)\]$/.exec(tryRead(() => readlinkSync(`/proc/${pid}/fd/${fd}`), ''));
    if (match?.[1] !== undefined) inodes.push(match[1]);
  }
  return inodes;
}

/** Every live (not zombie) holder and session process of the daemon whose data dir is `dataDir`. */
export function dataDirProcesses(dataDir: string): DataDirProcess[] {
  const sockets = holderSockets(dataDir);
  // Sessions of this data dir: those with a holder socket, and those with a socket file or an output dir left.
  const sessions = new Set(sockets.values());
  for (const dir of ['holders', 'sessions']) {
    for (const name of tryRead(() => readdirSync(join(dataDir, dir)), [])) sessions.add(basename(name, '.sock'));
  }
  const found = new Map<number, DataDirProcess>();
  const add = (pid: number, kind: DataDirProcess['kind'], session: string | undefined): void => {
    const stat = readProcStat(pid);
    if (stat === undefined || stat.state === 'Z' || found.has(pid)) return;
    found.set(pid, { pid, startTime: stat.startTime, kind, comm: stat.comm, session });
  };
  const pids = listPids();
  for (const pid of pids) {
    const argv = argvOf(pid);
    if (basename(argv[0] ?? '') !== 'corral-holder') continue;
    if (socketInodes(pid).some((inode) => sockets.has(inode)) || sessions.has(argv[1] ?? '')) add(pid, 'holder', argv[1]);
  }
  // The holders' trees: what a holder started, and what re-parented to it.
  const queue = [...found.keys()];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of childPids(pid)) {
      if (found.has(child)) continue;
      add(child, 'program', found.get(pid)?.session);
      queue.push(child);
    }
  }
  for (const pid of pids) {
    if (found.has(pid)) continue;
    const session = tryRead(() => readEnvironValue(pid, SESSION_MARKER_KEY), undefined);
    if (session !== undefined && sessions.has(session)) add(pid, 'program', session);
  }
  return [...found.values()].filter((process) => isAlive(process));
}

/** SIGKILLs every one of `processes` still alive (holders ignore SIGTERM); answers how many were sent the signal. */
export function killAll(processes: readonly DataDirProcess[]): number {
  let sent = 0;
  for (const process of processes) if (signalProcess(process, 'SIGKILL') === 'sent') sent += 1;
  return sent;
}

export function describe(processes: readonly DataDirProcess[]): string {
  return processes.map((p) => `${p.kind} ${p.pid} (${p.comm}, session ${p.session ?? '?'})`).join(', ');
}
