// Runs a TypeScript script from inside the checkout the way a user's script runs: `import … from 'corral/client'`
// resolves through package.json "exports" (the package's self-reference) to the built dist/, and tsc checks it
// against the published types. Every script lives in its own temp dir under the checkout, removed by dispose().

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './daemonHarness.js';

/** A script run on a loaded 2-core machine (tsx, a daemon round trip or two) stays well under this. */
const SCRIPT_TIMEOUT_MS = 60_000;

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CheckoutScript {
  path: string;
  dispose(): void;
}

/** Fails with what to do when dist/client is missing or older than its sources: the scripts import the build. */
export function assertClientBuilt(): void {
  const built = join(REPO_ROOT, 'dist', 'client', 'index.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first (corral/client resolves to dist/).`);
  const sourceDir = join(REPO_ROOT, 'src', 'client');
  const newest = Math.max(...readdirSync(sourceDir).map((name) => statSync(join(sourceDir, name)).mtimeMs));
  if (statSync(built).mtimeMs < newest) throw new Error('dist/client is older than src/client: run npm run build first.');
}

export function writeCheckoutScript(name: string, source: string): CheckoutScript {
  // Inside the checkout (not /tmp): only there does the package's self-reference `corral/client` resolve.
  const dir = mkdtempSync(join(REPO_ROOT, '.client-example-'));
  const path = join(dir, name);
  writeFileSync(path, source);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the script with node + tsx (ESM: the package is "type": "module"), in `cwd`, with only the given CORRAL_* vars. */
export function runScript(path: string, options: { cwd: string; env: Record<string, string> }): Promise<ScriptResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // The test decides how the daemon is found; an inherited CORRAL_* must not.
  for (const name of ['CORRAL_URL', 'CORRAL_TOKEN', 'CORRAL_DATA_DIR']) if (options.env[name] === undefined) delete env[name];
  // tsx by its resolved URL: `--import tsx` would be looked up from `cwd`, which lies outside the checkout.
  return run(process.execPath, ['--import', import.meta.resolve('tsx'), path], options.cwd, env);
}

/** Type-checks the script the way a user's strict ESM project would, against the types `exports` publishes. */
export function typecheckScript(path: string): Promise<ScriptResult> {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck'];
  return run(process.execPath, [tsc, ...flags, path], REPO_ROOT, process.env);
}

function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
