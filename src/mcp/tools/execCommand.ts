// `exec_command`: one command in a shell session between the shell's own marks: output, exit code, cwd.

import { z } from 'zod';
import { CorralError } from '../../protocol/errors.js';
import { shellExecSchema } from '../../protocol/api.js';
import { MCP_DEFAULT_OUTPUT_BYTES, MCP_DEFAULT_EXEC_TIMEOUT_MS } from './toolLimits.js';
import { ok, toolError, codeOf, stateOf, guarded } from './toolResults.js';
import { sessionIdArg, maxBytesArg } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

const shellExec = shellExecSchema.shape;

export const execCommandTool: CorralTool = {
  name: 'exec_command',
  register(server, { backend, cursors }) {
    server.registerTool(
      'exec_command',
      {
        title: 'Run a command in a shell session',
        description:
          'Run a command line in an interactive shell session (create_session with profile "shell") and return its output, exit code, duration and the ' +
          "shell's cwd after it. Boundaries are exact (the shell marks command start and end itself), multi-line commands and heredocs work, and state " +
          '(cd, exported variables) carries over to the next call. One command at a time per session: while one runs the call fails with SESSION_BUSY. ' +
          'Past timeoutMs the command keeps running (timedOut: true): wait_for {states:["idle"]}, read_output, or interrupt with send_input {keys:["C-c"]}. ' +
          'For a one-off command that needs no shell state, execute_command is simpler.',
        inputSchema: z.strictObject({
          sessionId: sessionIdArg,
          command: shellExec.command.describe('The command line as typed at the prompt, e.g. "cd src && ls"; may span lines.'),
          timeoutMs: shellExec.timeoutMs.describe(`Milliseconds to wait for it (default ${MCP_DEFAULT_EXEC_TIMEOUT_MS}); past it the command keeps running.`),
          format: shellExec.format.describe('"text" (default): escapes stripped; "raw": the bytes as the terminal got them.'),
          maxOutputBytes: maxBytesArg.optional(),
        }),
        outputSchema: {
          output: z.string(),
          exitCode: z.number().nullable().describe('$? as the shell saw it (128+n: killed by signal n); null while still running.'),
          durationMs: z.number(),
          cwd: z.string().nullable(),
          timedOut: z.boolean(),
          truncated: z.boolean(),
          seq: z.number().describe("This command's number in the session's command history."),
          outputStart: z.number().describe('Byte offset of its output in the session (read_output since).'),
          outputEnd: z.number(),
          hint: z.string().optional(),
        },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      },
      (args, extra) =>
        guarded(async () => {
          const timeoutMs = args.timeoutMs ?? MCP_DEFAULT_EXEC_TIMEOUT_MS;
          let result;
          try {
            result = await backend.shellExec(
              args.sessionId,
              { command: args.command, timeoutMs, format: args.format, maxOutputBytes: args.maxOutputBytes ?? MCP_DEFAULT_OUTPUT_BYTES },
              extra.signal,
            );
          } catch (error) {
            // The engine's SESSION_BUSY text names REST routes; a model needs the tools that do the same.
            if (codeOf(error) !== 'SESSION_BUSY') throw error;
            return toolError(
              new CorralError(
                'SESSION_BUSY',
                `Session ${args.sessionId} is ${stateOf(error)}: a command is still running there and exec_command runs only at a prompt. ` +
                  `Wait for it with wait_for {sessionId:"${args.sessionId}", states:["idle"]}, or interrupt it with send_input {sessionId:"${args.sessionId}", keys:["C-c"]}, then call exec_command again.`,
              ),
            );
          }
          if (!result.truncated) cursors.set(args.sessionId, 'combined', result.outputEnd);
          const hints: string[] = [];
          if (result.timedOut) {
            hints.push(
              `Still running after ${timeoutMs} ms. Wait with wait_for {sessionId:"${args.sessionId}", states:["idle"]}, read more with read_output ` +
                `{sessionId:"${args.sessionId}"}, or interrupt with send_input {sessionId:"${args.sessionId}", keys:["C-c"]}.`,
            );
          }
          if (result.truncated) {
            hints.push(`Output was truncated; read all of it with read_output {sessionId:"${args.sessionId}", since:${result.outputStart}}.`);
          }
          return ok({
            output: result.output,
            exitCode: result.exitCode,
            durationMs: result.durationMs,
            cwd: result.cwd,
            timedOut: result.timedOut,
            truncated: result.truncated,
            seq: result.seq,
            outputStart: result.outputStart,
            outputEnd: result.outputEnd,
            ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
          });
        }),
    );
  },
};
