// `prompt_agent`: an agent turn, from the prompt to the reply (or the agent's question, or the timeout).

import { z } from 'zod';
import { CorralError } from '../../protocol/errors.js';
import { promptSchema } from '../../protocol/api.js';
import { MCP_DEFAULT_PROMPT_MS } from './toolLimits.js';
import { ok, toolError, codeOf, stateOf, guarded } from './toolResults.js';
import { sessionIdArg, sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

const promptArgs = promptSchema.shape;

export const promptAgentTool: CorralTool = {
  name: 'prompt_agent',
  register(server, { backend }) {
    server.registerTool(
      'prompt_agent',
      {
        title: 'Prompt an agent session',
        description:
          'Send a prompt to an agent CLI session (e.g. profile "claude") as its user message and wait until the turn ends (state idle: "reply" is what ' +
          'the agent answered) or the agent asks something (state waiting_input: read_screen shows the dialog, answer it with answer). ' +
          'The session must be ready or idle (wait_for {states:["ready","idle"]} first). Past timeoutMs the turn goes on (timedOut: true).',
        inputSchema: z.strictObject({
          sessionId: sessionIdArg,
          text: promptArgs.text.describe('The prompt, as a person would type it (newlines allowed).'),
          timeoutMs: promptArgs.timeoutMs.describe(`Milliseconds to wait for the turn (default ${MCP_DEFAULT_PROMPT_MS}); past it the agent keeps working.`),
        }),
        outputSchema: {
          state: z.string().describe('idle (turn over), waiting_input (a question), busy (timed out), error, terminated.'),
          reply: z.string().nullable(),
          replySource: z.string().nullable().describe('hook, transcript or screen: where the reply was read.'),
          error: z.string().nullable(),
          timedOut: z.boolean(),
          durationMs: z.number(),
          session: sessionSummarySchema,
          hint: z.string().optional(),
        },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      },
      (args, extra) =>
        guarded(async () => {
          const timeoutMs = args.timeoutMs ?? MCP_DEFAULT_PROMPT_MS;
          let result;
          try {
            result = await backend.prompt(args.sessionId, { text: args.text, timeoutMs }, extra.signal);
          } catch (error) {
            const code = codeOf(error);
            const id = args.sessionId;
            // The engine names REST routes; a model needs the tools that do the same.
            if (code === 'SESSION_BUSY') {
              return toolError(
                new CorralError(
                  code,
                  `Session ${id} is ${stateOf(error)}: it takes a prompt only when ready or idle. Wait with wait_for {sessionId:"${id}", states:["idle","ready","waiting_input"]}, ` +
                    `or interrupt the turn with send_input {sessionId:"${id}", keys:["Escape"]}, then prompt again.`,
                ),
              );
            }
            if (code === 'INVALID_STATE') {
              return toolError(
                new CorralError(
                  code,
                  `Session ${id} is ${stateOf(error)}: a dialog is waiting. Look at it with read_screen {sessionId:"${id}"} and answer it with answer {sessionId:"${id}", choice}, then prompt again.`,
                ),
              );
            }
            throw error;
          }
          const hints: string[] = [];
          if (result.state === 'waiting_input') {
            hints.push(`The agent asks something: read_screen {sessionId:"${args.sessionId}"} shows the dialog; answer it with answer {sessionId:"${args.sessionId}", choice}.`);
          } else if (result.timedOut) {
            hints.push(`The turn is still running after ${timeoutMs} ms: wait_for {sessionId:"${args.sessionId}", states:["idle","waiting_input"]}, then read_output or read_screen.`);
          }
          if (result.error !== null) hints.push(`The agent reported an error: ${result.error}`);
          return ok({
            state: result.state,
            reply: result.reply,
            replySource: result.replySource,
            error: result.error,
            timedOut: result.timedOut,
            durationMs: result.durationMs,
            session: summarize(result.session),
            ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
          });
        }),
    );
  },
};
