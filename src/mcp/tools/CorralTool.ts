// What one Corral MCP tool is (a name and how it registers itself on a server) and what it gets to work with: the
// backend, this connection's read cursors, and the two helpers several tools share.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { SessionInfo } from '../../protocol/sessionTypes.js';
import type { McpBackend, OutputStreamName } from '../McpBackend.js';
import type { ReadCursors } from '../ReadCursors.js';
import type { BoundedRead } from './toolSchemas.js';

export interface ToolContext {
  backend: McpBackend;
  /** Where this connection last stopped reading each session's output. */
  cursors: ReadCursors;
  /** One bounded read that advances this connection's cursor and says whether more is waiting. */
  readBounded(sessionId: string, args: { since?: number; stream?: OutputStreamName; maxBytes?: number; format?: 'text' | 'raw' }): Promise<BoundedRead>;
  /** The session behind a pid (live ones first: an ended session's pid may have been reused), or by id. */
  resolveProcess(args: { pid?: number; sessionId?: string }): Promise<SessionInfo>;
}

export interface CorralTool {
  /** The tool's MCP name (`execute_command`, `read_output`, …). */
  readonly name: string;
  register(server: McpServer, context: ToolContext): void;
}
