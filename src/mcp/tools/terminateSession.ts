// `terminate_session`: ends a session and its whole process tree.

import { z } from 'zod';
import { ok, guarded } from './toolResults.js';
import { sessionIdArg, sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const terminateSessionTool: CorralTool = {
  name: 'terminate_session',
  register(server, { backend }) {
    server.registerTool(
      'terminate_session',
      {
        title: 'End a session',
        description:
          "End a session and its whole process tree: the profile's polite exit, then SIGINT, SIGTERM, SIGKILL, then a sweep of every descendant. " +
          'force: true goes straight to SIGKILL. Answers the ended session with its exit.',
        inputSchema: z.strictObject({ sessionId: sessionIdArg, force: z.boolean().optional().describe('true: SIGKILL the whole tree at once instead of the polite escalation.') }),
        outputSchema: { session: sessionSummarySchema },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
      },
      (args) =>
        guarded(async () => {
          const info = await backend.terminate(args.sessionId, { force: args.force === true });
          return ok({ session: summarize(info) });
        }),
    );
  },
};
