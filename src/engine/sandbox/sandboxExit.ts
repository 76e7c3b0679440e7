// How a sandboxed program really ended. bwrap passes on only an exit code, 128+n when a signal ended the program, so
// the sandbox's init (native/sandbox_init.c) writes `signal N` or `exit N` to a file of the session's own; a code
// above 128 is read back from it, so a program killed by SIGINT is reported as such, like an unsandboxed one, and a
// program that exited with 130 keeps its code. No file (an init killed from outside, an older sandbox): the code
// stands as bwrap gave it.

import { constants } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { ProcessStatus } from '../backends/ProcessBackend.js';

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name]));

export async function sandboxedExitStatus(status: ProcessStatus, exitFile: string): Promise<ProcessStatus> {
  if (status.code === null || status.code <= 128 || status.lost === true) return status;
  let said: string;
  try {
    said = await readFile(exitFile, 'utf8');
  } catch {
    // ENOENT: the init never wrote it (see above). Any other failure (the program replaced it with a directory)
    // leaves the same answer: the code as bwrap gave it; the session must end either way.
    return status;
  }
  const match = /^signal (\d+)\n$/.exec(said);
  const number = match === null ? undefined : Number(match[1]);
  const name = number === undefined ? undefined : SIGNAL_NAMES.get(number);
  // Only when the file agrees with bwrap's code: a stale or forged file (the program can write there) changes nothing else.
  if (number === undefined || name === undefined || status.code !== 128 + number) return status;
  return { ...status, code: null, signal: name };
}
