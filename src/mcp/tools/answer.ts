// `answer`: answers the dialog an agent session shows, by option number or text.

import { z } from 'zod';
import { CorralError } from '../../protocol/errors.js';
import { answerSchema } from '../../protocol/api.js';
import { ok, toolError, codeOf, stateOf, guarded } from './toolResults.js';
import { sessionIdArg, sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

const answerArgs = answerSchema.shape;

export const answerTool: CorralTool = {
  name: 'answer',
  register(server, { backend }) {
    server.registerTool(
      'answer',
      {
        title: "Answer an agent's question",
        description:
          'Answer the dialog an agent session shows (state waiting_input: a permission prompt, a trust question, an API-key confirmation) by option ' +
          'number (1, 2, …) or by the option\'s text ("Yes", "No, and tell Claude what to do differently"). read_screen shows the options. ' +
          'Waits until the dialog is gone and answers the state after it.',
        inputSchema: z.strictObject({
          sessionId: sessionIdArg,
          choice: answerArgs.choice.describe('The option number as shown (1, 2, …) or its text (or the start of it).'),
          timeoutMs: answerArgs.timeoutMs.describe('Milliseconds to wait for the dialog to go away (default 10000).'),
        }),
        outputSchema: { dialog: z.string(), choice: z.string(), state: z.string(), session: sessionSummarySchema, hint: z.string().optional() },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      },
      (args, extra) =>
        guarded(async () => {
          let result;
          try {
            result = await backend.answer(args.sessionId, { choice: args.choice, timeoutMs: args.timeoutMs }, extra.signal);
          } catch (error) {
            // No dialog on screen: say what the session is doing instead of naming a REST route.
            if (codeOf(error) !== 'INVALID_STATE') throw error;
            return toolError(
              new CorralError(
                'INVALID_STATE',
                `Session ${args.sessionId} shows no dialog to answer (state ${stateOf(error)}). read_screen {sessionId:"${args.sessionId}"} shows what it displays; ` +
                  'prompt_agent sends a new prompt when it is idle.',
              ),
            );
          }
          const busy = result.state === 'busy';
          return ok({
            dialog: result.dialog,
            choice: result.choice,
            state: result.state,
            session: summarize(result.session),
            ...(busy ? { hint: `The agent goes on: wait_for {sessionId:"${args.sessionId}", states:["idle","waiting_input"]}.` } : {}),
          });
        }),
    );
  },
};
