// Confines session working directories to the configured workspace roots, by realpath and whole path
// components (so /work/rootX is not under /work/root, and a symlink cannot point outside). Fails closed.

import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { CorralError } from '../../protocol/errors.js';

export class CwdPolicy {
  readonly roots: readonly string[];

  constructor(roots: readonly string[]) {
    if (roots.length === 0) throw new Error('CwdPolicy needs at least one workspace root');
    this.roots = roots.map((root) => realpathSync(root));
  }

  get defaultCwd(): string {
    const first = this.roots[0];
    if (first === undefined) throw new Error('no workspace root');
    return first;
  }

  /** The real path of `requested` (relative paths are taken from the first root), or a CWD_* error. */
  resolve(requested: string | undefined): string {
    if (requested === undefined || requested === '') return this.defaultCwd;
    if (requested.includes('\0')) throw new CorralError('CWD_NOT_ALLOWED', 'The working directory contains a NUL byte.');
    const absolute = isAbsolute(requested) ? requested : resolve(this.defaultCwd, requested);
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOENT/ENOTDIR: it does not exist; EACCES: we cannot see it — all mean "not a usable cwd".
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'ELOOP') {
        throw new CorralError('CWD_NOT_FOUND', `Working directory ${requested} does not exist.`, { details: { cwd: requested } });
      }
      throw error;
    }
    if (!this.isUnderRoot(real)) {
      throw new CorralError(
        'CWD_NOT_ALLOWED',
        `Working directory ${requested} is outside the workspace roots (${this.roots.join(', ')}).`,
        { details: { cwd: requested, roots: this.roots } },
      );
    }
    if (!statSync(real).isDirectory()) {
      throw new CorralError('CWD_NOT_FOUND', `${requested} is not a directory.`, { details: { cwd: requested } });
    }
    return real;
  }

  isUnderRoot(realPath: string): boolean {
    return this.roots.some((root) => realPath === root || realPath.startsWith(root.endsWith(sep) ? root : root + sep));
  }
}
