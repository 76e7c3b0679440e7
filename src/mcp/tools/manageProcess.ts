// `manage_process`: list, read or kill the processes Corral runs, found by pid or session id.

import { z } from 'zod';
import { SIGNAL_NAMES } from '../../protocol/api.js';
import { DEFAULT_LIST, MAX_LIST } from './toolLimits.js';
import { ok, guarded } from './toolResults.js';
import { sessionIdArg, maxBytesArg, outputReadSchema, processSchema, toProcess, isRunning } from './toolSchemas.js';
import type { CorralTool } from './CorralTool.js';

export const manageProcessTool: CorralTool = {
  name: 'manage_process',
  register(server, { backend, readBounded, resolveProcess }) {
    server.registerTool(
      'manage_process',
      {
        title: 'List, read or kill background processes',
        description:
          'Manage processes Corral runs (background commands from execute_command and sessions). ' +
          'action "list": running and recent processes with pid and sessionId. ' +
          'action "read" (pid or sessionId): output since this connection last read it, or from "since"; reading never consumes, other readers lose nothing. ' +
          'action "kill" (pid or sessionId): ends the whole process tree (children, grandchildren, even ones that called setsid); ' +
          'signal "SIGKILL" skips the grace periods; another signal (e.g. "SIGINT", "SIGSTOP") is only sent to its process group.',
        inputSchema: z.strictObject({
          action: z.enum(['list', 'read', 'kill']).describe('"list" recent commands, "read" one\'s output (with pid), "kill" one\'s process tree (with pid).'),
          pid: z.number().int().min(1).optional().describe('Process id from execute_command or list.'),
          sessionId: sessionIdArg.optional(),
          signal: z.enum(SIGNAL_NAMES).optional().describe('For kill: omit (or SIGTERM) for the polite escalation, SIGKILL for at once.'),
          since: z.number().int().min(0).optional().describe('For read: byte offset to read from (default: where this connection last stopped).'),
          maxBytes: maxBytesArg.optional(),
          limit: z.number().int().min(1).max(MAX_LIST).optional().describe(`For list: how many (default ${DEFAULT_LIST}).`),
        }),
        outputSchema: {
          action: z.string(),
          processes: z.array(processSchema).optional(),
          process: processSchema.optional(),
          output: z.object(outputReadSchema).optional(),
          hint: z.string().optional(),
        },
        annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      },
      (args) =>
        guarded(async () => {
          if (args.action === 'list') {
            const sessions = await backend.listSessions({ limit: args.limit ?? DEFAULT_LIST });
            const live = sessions.filter(isRunning);
            const ended = sessions.filter((s) => !isRunning(s));
            return ok({ action: 'list', processes: [...live, ...ended].map(toProcess) });
          }
          const target = await resolveProcess(args);
          if (args.action === 'read') {
            const output = await readBounded(target.id, { since: args.since, maxBytes: args.maxBytes, stream: 'combined' });
            return ok({ action: 'read', process: toProcess(target), output });
          }
          if (args.signal !== undefined && args.signal !== 'SIGTERM' && args.signal !== 'SIGKILL') {
            const after = await backend.signal(target.id, args.signal);
            return ok({ action: 'kill', process: toProcess(after), hint: `Sent ${args.signal} to the process group of pid ${target.pid}.` });
          }
          const ended = await backend.terminate(target.id, { force: args.signal === 'SIGKILL' });
          return ok({
            action: 'kill',
            process: toProcess(ended),
            hint: `Ended pid ${target.pid} and its whole process tree (${ended.exit?.reason ?? 'terminated'}${ended.exit?.forced === true ? ', forced' : ''}).`,
          });
        }),
    );
  },
};
