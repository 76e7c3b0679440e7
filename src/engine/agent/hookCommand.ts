// The hook command every agent CLI runs to report to Corral (curl, or a node script), and the `--settings` hooks
// file in Claude's format. An isolated HOME's files are profile data (agent.homeFiles, written by agentHome.ts).
// It writes only inside the session's own private directory; it never reads or touches the user's real HOME.

import { existsSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HOOK_SECRET_HEADER } from './HookServer.js';

/** Env names the hook command reads; set by Corral itself (callers cannot set CORRAL_* variables). */
export const HOOK_ENV = {
  socket: 'CORRAL_HOOK_SOCKET',
  secret: 'CORRAL_HOOK_SECRET',
  session: 'CORRAL_HOOK_SESSION',
} as const;
/** Claude kills a hook command after this many seconds; ours answers in milliseconds, this bounds a stuck daemon. */
const HOOK_TIMEOUT_S = 5;
/** curl gives up after this long, so a hook can never hold a turn for more than a moment. */
const CURL_MAX_TIME_S = 3;

/** The first executable `name` in PATH, or null. */
export function findInPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const full = join(dir, name);
    if (existsSync(full)) return full;
  }
  return null;
}

/**
 * The hook command. With curl: one small process that posts stdin to the socket (measured cheaper than a node
 * script, see bench/claudeHooks.ts). Without curl: a node script written into the session's dir.
 */
export function hookCommand(options: { curl: string | null; node: string; scriptDir: string }): string {
  if (options.curl !== null) {
    return (
      `'${options.curl}' -s -o /dev/null -m ${CURL_MAX_TIME_S} --unix-socket "$${HOOK_ENV.socket}" ` +
      `-H "${HOOK_SECRET_HEADER}: $${HOOK_ENV.secret}" -H 'content-type: application/json' ` +
      `--data-binary @- "http://corral/hooks/$${HOOK_ENV.session}" || true`
    );
  }
  const script = join(options.scriptDir, 'hook.mjs');
  writeFileSync(script, NODE_HOOK_SCRIPT, { mode: 0o600 });
  return `'${options.node}' '${script}' || true`;
}

const NODE_HOOK_SCRIPT = `// Corral hook reporter: posts the hook's stdin to the session's Corral hook socket.
import { request } from 'node:http';
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const req = request({
  socketPath: process.env.${HOOK_ENV.socket},
  path: '/hooks/' + process.env.${HOOK_ENV.session},
  method: 'POST',
  headers: { '${HOOK_SECRET_HEADER}': process.env.${HOOK_ENV.secret} ?? '', 'content-type': 'application/json' },
  timeout: ${CURL_MAX_TIME_S * 1000},
});
req.on('error', () => process.exit(0));
req.on('response', (res) => { res.resume(); res.on('end', () => process.exit(0)); });
req.end(Buffer.concat(chunks));
`;

/** The `--settings` JSON: one command hook per event. `--settings` merges with the user's own settings. */
export function hookSettings(events: readonly string[], command: string): string {
  const hooks: Record<string, unknown> = {};
  for (const event of events) hooks[event] = [{ hooks: [{ type: 'command', command, timeout: HOOK_TIMEOUT_S }] }];
  return `${JSON.stringify({ hooks }, null, 2)}\n`;
}
