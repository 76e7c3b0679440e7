#!/usr/bin/env node
// Runs every test file under test/ with node's test runner (TypeScript through tsx).
// Node 20's runner does not expand globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'helpers') found.push(...findTests(path));
    } else if (name.endsWith('.test.ts')) {
      found.push(path);
    }
  }
  return found;
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : findTests('test').sort();
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  // Daemons the tests start exit on an uncaught error instead of running on (src/daemon/processFaults.ts): a test
  // must fail on such a bug, not pass over it.
  { stdio: 'inherit', env: { ...process.env, CORRAL_FATAL_FAULTS: '1' } },
);
process.exit(result.status ?? 1);
