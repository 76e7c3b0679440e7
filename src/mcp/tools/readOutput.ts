// `read_output`: a bounded read of a session's output, from this connection's cursor or an offset.

import { z } from 'zod';
import { ok, guarded } from './toolResults.js';
import { sessionIdArg, streamArg, maxBytesArg, outputReadSchema } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const readOutputTool: CorralTool = {
  name: 'read_output',
  register(server, { readBounded }) {
    server.registerTool(
      'read_output',
      {
        title: 'Read session output',
        description:
          'Read a session\'s output as text (ANSI stripped) or raw UTF-8, from "since" (a byte offset) or, by default, from where this connection last read it. ' +
          'Never consumes. Bounded per call: when "more" is true, read again to continue from nextOffset.',
        inputSchema: z.strictObject({
          sessionId: sessionIdArg,
          since: z.number().int().min(0).optional().describe('Byte offset to start at (0 = the beginning). Default: where this connection stopped.'),
          format: z.enum(['text', 'raw']).optional().describe('"text" (default): escapes stripped, carriage returns resolved; "raw": bytes as UTF-8.'),
          stream: streamArg.optional(),
          maxBytes: maxBytesArg.optional(),
        }),
        outputSchema: outputReadSchema,
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      (args) =>
        guarded(async () => {
          const output = await readBounded(args.sessionId, args);
          return ok(output);
        }),
    );
  },
};
