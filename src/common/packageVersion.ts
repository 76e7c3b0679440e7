// Corral's version, from package.json (the same relative path from src/common under tsx and dist/common): for
// `corral --version`, the MCP server's name and the daemon's replies. Reads one file; loads nothing of the daemon.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
