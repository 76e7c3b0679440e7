// Reads the version of an agent session's CLI (`<program> --version` by default, per the profile) so a session
// running a version the profile was never verified against says so in its info. Cached per program file (path,
// size, mtime): an upgrade in place is read again, a hundred sessions of one CLI run it once.

import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Profile } from '../profiles/profileSchema.js';
import { findInPath } from './hookCommand.js';

/** A CLI that takes longer than this to print its version (a stalled Node bundle on a loaded machine) is unread. */
const VERSION_TIMEOUT_MS = 20_000;

const cache = new Map<string, Promise<string | null>>();

/** The version the program reports, or null when it cannot be run or prints nothing the profile's pattern finds. */
export function readAgentVersion(profile: Profile, command: readonly string[], env: Record<string, string>, cwd: string): Promise<string | null> {
  const spec = profile.agent?.version;
  const program = command[0];
  if (spec === undefined || program === undefined) return Promise.resolve(null);
  const path = program.includes('/') ? program : findInPath(program, env.PATH ?? '');
  if (path === null) return Promise.resolve(null);
  let key: string;
  try {
    const stat = statSync(path);
    key = `${path}\0${stat.size}\0${stat.mtimeMs}\0${spec.args.join('\0')}\0${spec.pattern}`;
  } catch {
    // Gone or unreadable: the spawn reports that; there is no version to read.
    return Promise.resolve(null);
  }
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = new Promise<string | null>((resolve) => {
      execFile(path, spec.args, { env, cwd, timeout: VERSION_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
        const text = `${String(stdout)}\n${String(stderr)}`;
        const match = new RegExp(spec.pattern, 'mu').exec(text);
        resolve(match === null ? null : (match[1] ?? match[0]).trim());
        // A failed read is not cached: the next session tries again.
        if (match === null || error !== null) cache.delete(key);
      });
    });
    cache.set(key, pending);
  }
  return pending;
}
