// One connection's ToolContext: its read cursors over a backend, bounded reads that advance them, and pid lookup.
// Holds no session state beyond the cursors.

import { CorralError } from '../../protocol/errors.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import type { McpBackend } from '../McpBackend.js';
import { ReadCursors } from '../ReadCursors.js';
import type { ToolContext } from './CorralTool.js';
import { MCP_DEFAULT_OUTPUT_BYTES, PID_SCAN_LIMIT } from './toolLimits.js';
import { endOffset, isRunning, type BoundedRead } from './toolSchemas.js';

export function createToolContext(backend: McpBackend): ToolContext {
  const cursors = new ReadCursors();

  const readBounded: ToolContext['readBounded'] = async (sessionId, args): Promise<BoundedRead> => {
    const stream = args.stream ?? 'combined';
    const since = args.since ?? cursors.get(sessionId, stream) ?? 0;
    const read = await backend.readOutput(sessionId, {
      since,
      format: args.format ?? 'text',
      stream,
      maxBytes: args.maxBytes ?? MCP_DEFAULT_OUTPUT_BYTES,
    });
    const info = await backend.getSession(sessionId);
    cursors.set(sessionId, stream, read.nextOffset);
    const more = read.nextOffset < endOffset(info, stream);
    const running = isRunning(info);
    const hints: string[] = [];
    if (read.gap > 0) hints.push(`${read.gap} older bytes were evicted before offset ${read.offset}.`);
    if (more) hints.push(`More output is available from offset ${read.nextOffset}: read again (the next read continues there).`);
    else if (running) hints.push('No more output yet; the process is still running. Use wait_for with a pattern or exit to wait for more.');
    return {
      sessionId,
      stream,
      data: read.data,
      offset: read.offset,
      nextOffset: read.nextOffset,
      firstAvailableOffset: read.firstAvailableOffset,
      gap: read.gap,
      more,
      running,
      ...(hints.length > 0 ? { hint: hints.join(' ') } : {}),
    };
  };

  const resolveProcess: ToolContext['resolveProcess'] = async (args): Promise<SessionInfo> => {
    if (args.sessionId !== undefined) return backend.getSession(args.sessionId);
    if (args.pid === undefined) {
      throw new CorralError('VALIDATION_FAILED', 'Give pid (from execute_command or manage_process list) or sessionId.');
    }
    const pid = args.pid;
    const live = await backend.listSessions({ live: true, limit: PID_SCAN_LIMIT });
    const found = live.find((s) => s.pid === pid) ?? (await backend.listSessions({ limit: PID_SCAN_LIMIT })).find((s) => s.pid === pid);
    if (found !== undefined) return found;
    const running = live
      .filter((s) => s.pid !== null)
      .slice(0, 20)
      .map((s) => `pid ${s.pid} (${s.id})`);
    throw new CorralError(
      'SESSION_NOT_FOUND',
      `No Corral process has pid ${pid}. ${running.length === 0 ? 'No processes are running.' : `Running: ${running.join(', ')}.`} Use manage_process with action "list" to see them.`,
      { details: { pid } },
    );
  };

  return { backend, cursors, readBounded, resolveProcess };
}
