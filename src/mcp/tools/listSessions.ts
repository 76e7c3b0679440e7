// `list_sessions`: sessions newest first, running and recently ended.

import { z } from 'zod';
import { DEFAULT_LIST, MAX_LIST } from './toolLimits.js';
import { ok, guarded } from './toolResults.js';
import { sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const listSessionsTool: CorralTool = {
  name: 'list_sessions',
  register(server, { backend }) {
    server.registerTool(
      'list_sessions',
      {
        title: 'List sessions',
        description: 'Sessions newest first, running and recently ended, with state, pid and exit.',
        inputSchema: z.strictObject({
          live: z.boolean().optional().describe('true: only running sessions; false: only ended ones.'),
          limit: z.number().int().min(1).max(MAX_LIST).optional().describe(`Default ${DEFAULT_LIST}.`),
        }),
        outputSchema: { sessions: z.array(sessionSummarySchema) },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      (args) =>
        guarded(async () => {
          const sessions = await backend.listSessions({ live: args.live, limit: args.limit ?? DEFAULT_LIST });
          return ok({ sessions: sessions.map(summarize) });
        }),
    );
  },
};
