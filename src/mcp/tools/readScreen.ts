// `read_screen`: the rendered terminal of a pty session, as rows of text with the cursor.

import { z } from 'zod';
import { ok, guarded } from './toolResults.js';
import { sessionIdArg } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const readScreenTool: CorralTool = {
  name: 'read_screen',
  register(server, { backend }) {
    server.registerTool(
      'read_screen',
      {
        title: 'Read the terminal screen',
        description:
          'The rendered terminal of a pty session as rows of text with the cursor position — what a person would see. Best for TUIs and agent CLIs.',
        inputSchema: z.strictObject({ sessionId: sessionIdArg }),
        outputSchema: {
          cols: z.number(),
          rows: z.number(),
          lines: z.array(z.string()),
          cursor: z.object({ x: z.number(), y: z.number() }),
          title: z.string(),
          alternateScreen: z.boolean(),
        },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      (args) =>
        guarded(async () => {
          const screen = await backend.readScreen(args.sessionId);
          const structured = {
            cols: screen.cols,
            rows: screen.rows,
            lines: screen.lines,
            cursor: screen.cursor,
            title: screen.title,
            alternateScreen: screen.alternateScreen,
          };
          const text = `${screen.cols}x${screen.rows}, cursor at row ${screen.cursor.y} col ${screen.cursor.x}\n${screen.lines.join('\n').replace(/\s+$/, '')}`;
          return ok(structured, text);
        }),
    );
  },
};
