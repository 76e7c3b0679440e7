// `send_input`: types text and named keys into a session, or closes its stdin.

import { z } from 'zod';
import { CorralError } from '../../protocol/errors.js';
import { MAX_INPUT_BYTES } from '../../protocol/api.js';
import { ok, guarded } from './toolResults.js';
import { sessionIdArg, sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const sendInputTool: CorralTool = {
  name: 'send_input',
  register(server, { backend }) {
    server.registerTool(
      'send_input',
      {
        title: 'Type into a session',
        description:
          'Write text and/or press named keys in a session, text first. Keys: Enter, Escape, Tab, Backspace, Delete, Up, Down, Left, Right, Home, End, ' +
          'PageUp, PageDown, F1…F12, C-a…C-z (Ctrl), M-<char> (Alt). To run a line in a shell: text "ls -la" and keys ["Enter"]. eof: true closes stdin (pipe sessions).',
        inputSchema: z.strictObject({
          sessionId: sessionIdArg,
          text: z.string().max(MAX_INPUT_BYTES).optional().describe('Text typed as is (no Enter added).'),
          keys: z.array(z.string().max(32)).max(256).optional().describe('Named keys pressed after the text, e.g. ["Enter"] or ["C-c"].'),
          eof: z.boolean().optional().describe('Close stdin after writing (pipe sessions).'),
        }),
        outputSchema: { session: sessionSummarySchema },
        annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
      },
      (args) =>
        guarded(async () => {
          if (args.text === undefined && args.keys === undefined && args.eof !== true) {
            throw new CorralError('VALIDATION_FAILED', 'Give text, keys or eof: true.');
          }
          const info = await backend.sendInput(args.sessionId, { data: args.text, keys: args.keys, eof: args.eof });
          return ok({ session: summarize(info) });
        }),
    );
  },
};
