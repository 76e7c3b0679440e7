// `execute_command`: a one-shot command line through the shell, with its stdout, stderr and exit code; past its
// timeout it keeps running and the result names its pid and session.

import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { MAX_ARG_BYTES, MAX_INPUT_BYTES, MAX_WAIT_MS } from '../../protocol/api.js';
import { MCP_DEFAULT_OUTPUT_BYTES, MCP_DEFAULT_EXEC_TIMEOUT_MS } from './toolLimits.js';
import { ok, guarded } from './toolResults.js';
import { maxBytesArg } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const executeCommandTool: CorralTool = {
  name: 'execute_command',
  register(server, { backend, cursors }) {
    server.registerTool(
      'execute_command',
      {
        title: 'Run a command',
        description:
          'Run a shell command line and return its stdout, stderr and exit code. Output is bounded (truncated: true when cut; read the rest with read_output). ' +
          'If the command is still running at the timeout it is NOT killed: it keeps running in the background and the result gives its pid and sessionId — ' +
          'use manage_process {action:"read", pid} for its output, {action:"kill", pid} to stop it, or wait_for {sessionId, exit:true}.',
        inputSchema: z.strictObject({
          command: z.string().min(1).max(MAX_ARG_BYTES).describe('The command line, e.g. "npm test 2>&1 | tail -20". Runs through the shell.'),
          shell: z.string().min(1).max(4096).optional().describe('Shell that runs it with -c (default /bin/sh), e.g. "bash".'),
          cwd: z.string().min(1).max(4096).optional().describe('Working directory (must lie under a workspace root; default: the first root).'),
          timeout: z
            .number()
            .int()
            .min(1)
            .max(MAX_WAIT_MS)
            .optional()
            .describe(`Milliseconds to wait for it to finish (default ${MCP_DEFAULT_EXEC_TIMEOUT_MS}); it keeps running after.`),
          stdin: z.string().max(MAX_INPUT_BYTES).optional().describe('Text written to its stdin, which is then closed.'),
          maxOutputBytes: maxBytesArg.optional(),
        }),
        outputSchema: {
          stdout: z.string(),
          stderr: z.string(),
          exitCode: z.number().nullable(),
          signal: z.string().nullable(),
          timedOut: z.boolean(),
          truncated: z.boolean(),
          running: z.boolean(),
          sessionId: z.string(),
          pid: z.number().nullable(),
          durationMs: z.number(),
          hint: z.string().optional(),
        },
        annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
      },
      (args, extra) =>
        guarded(async () => {
          const command = args.shell === undefined ? args.command : [args.shell, '-c', args.command];
          const result = await backend.exec(
            {
              command,
              cwd: args.cwd,
              timeoutMs: args.timeout ?? MCP_DEFAULT_EXEC_TIMEOUT_MS,
              stdin: args.stdin,
              maxOutputBytes: args.maxOutputBytes ?? MCP_DEFAULT_OUTPUT_BYTES,
            },
            extra.signal,
          );
          const running = result.timedOut;
          if (!result.truncated && !result.stdout.includes('\uFFFD') && !result.stderr.includes('\uFFFD')) {
            // The combined stream is stdout and stderr interleaved, so what was returned ends exactly here: a later
            // manage_process read starts after it instead of repeating it.
            cursors.set(result.sessionId, 'combined', Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr));
          }
          const hints: string[] = [];
          if (running) {
            hints.push(
              `Still running after ${args.timeout ?? MCP_DEFAULT_EXEC_TIMEOUT_MS} ms as pid ${result.pid} (session ${result.sessionId}). ` +
                `Read its output with manage_process {action:"read", pid:${result.pid}}, stop it with {action:"kill", pid:${result.pid}}, ` +
                `or wait with wait_for {sessionId:"${result.sessionId}", exit:true}.`,
            );
          }
          if (result.truncated) {
            hints.push(`Output was truncated; read the rest with read_output {sessionId:"${result.sessionId}", stream:"stdout" or "stderr", since:<bytes already seen>}.`);
          }
          const structured = {
            stdout: result.stdout,
            stderr: result.stderr,
            exitCode: result.exitCode,
            signal: result.signal,
            timedOut: result.timedOut,
            truncated: result.truncated,
            running,
            sessionId: result.sessionId,
            pid: result.pid,
            durationMs: result.durationMs,
            ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
          };
          return ok(structured);
        }),
    );
  },
};
