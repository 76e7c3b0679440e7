// `wait_for`: blocks until a state, an output pattern or exit (or the timeout), instead of polling.

import { z } from 'zod';
import { CorralError } from '../../protocol/errors.js';
import { SESSION_STATES } from '../../protocol/sessionTypes.js';
import { MAX_PATTERN_LENGTH, MAX_WAIT_MS } from '../../protocol/api.js';
import { MCP_DEFAULT_WAIT_MS } from './toolLimits.js';
import { ok, guarded } from './toolResults.js';
import { sessionIdArg, sessionSummarySchema, summarize } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const waitForTool: CorralTool = {
  name: 'wait_for',
  register(server, { backend }) {
    server.registerTool(
      'wait_for',
      {
        title: 'Wait for a state, output or exit',
        description:
          'Block until the session reaches one of "states", its output matches "pattern" (a regex; output produced after the call starts unless "since" is given), ' +
          'or it exits ("exit": true) — or until timeoutMs. Use this instead of polling. matched: false means the timeout came first.',
        inputSchema: z.strictObject({
          sessionId: sessionIdArg,
          states: z.array(z.enum(SESSION_STATES)).min(1).optional().describe('e.g. ["idle", "waiting_input"].'),
          pattern: z.string().min(1).max(MAX_PATTERN_LENGTH).optional().describe('Regular expression searched in the output, e.g. "\\\\$ $" or "Tests: \\\\d+ passed".'),
          since: z.number().int().min(0).optional().describe('Search the pattern from this byte offset (e.g. 0 to include output already produced).'),
          screen: z.boolean().optional().describe('Also match the pattern against the rendered screen.'),
          exit: z.boolean().optional().describe('Wait for the process to exit.'),
          timeoutMs: z.number().int().min(0).max(MAX_WAIT_MS).optional().describe(`Default ${MCP_DEFAULT_WAIT_MS}.`),
        }),
        outputSchema: { matched: z.boolean(), outcome: z.string(), session: sessionSummarySchema, hint: z.string().optional() },
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      (args, extra) =>
        guarded(async () => {
          if (args.states === undefined && args.pattern === undefined && args.exit !== true) {
            throw new CorralError('VALIDATION_FAILED', 'Give states, pattern or exit: true.');
          }
          const timeoutMs = args.timeoutMs ?? MCP_DEFAULT_WAIT_MS;
          const result = await backend.wait(
            args.sessionId,
            { states: args.states, pattern: args.pattern, since: args.since, screen: args.screen, exit: args.exit, timeoutMs },
            extra.signal,
          );
          return ok({
            matched: result.matched,
            outcome: result.outcome,
            session: summarize(result.session),
            ...(result.matched
              ? {}
              : { hint: `Not matched (${result.outcome}) after ${timeoutMs} ms; the session is ${result.session.state}. Read its output or screen, or wait again.` }),
          });
        }),
    );
  },
};
