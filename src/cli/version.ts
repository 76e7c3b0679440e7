// The package's version, read from package.json beside dist/ (or src/ under tsx): for `corral --version` and the
// MCP server's name. Reads one file; loads nothing of the daemon.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
