// The one set of MCP tools (PRODUCT §2.3), served over stdio and Streamable HTTP alike: the original design's
// execute_command and manage_process plus the session tools, one file each under tools/. This index only lists
// them and registers them on a new server per connection; it must never hold session state beyond that
// connection's read cursors.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpBackend } from './McpBackend.js';
import type { CorralTool } from './tools/CorralTool.js';
import { answerTool } from './tools/answer.js';
import { createSessionTool } from './tools/createSession.js';
import { execCommandTool } from './tools/execCommand.js';
import { executeCommandTool } from './tools/executeCommand.js';
import { listSessionsTool } from './tools/listSessions.js';
import { manageProcessTool } from './tools/manageProcess.js';
import { promptAgentTool } from './tools/promptAgent.js';
import { readOutputTool } from './tools/readOutput.js';
import { readScreenTool } from './tools/readScreen.js';
import { sendInputTool } from './tools/sendInput.js';
import { terminateSessionTool } from './tools/terminateSession.js';
import { waitForTool } from './tools/waitFor.js';
import { createToolContext } from './tools/toolContext.js';

/** Every Corral tool, in the order tools/list shows them. */
export const CORRAL_TOOLS: readonly CorralTool[] = [
  executeCommandTool,
  manageProcessTool,
  createSessionTool,
  sendInputTool,
  execCommandTool,
  promptAgentTool,
  answerTool,
  readOutputTool,
  readScreenTool,
  waitForTool,
  listSessionsTool,
  terminateSessionTool,
];

export interface CorralMcpOptions {
  version: string;
}

const INSTRUCTIONS = `Corral runs and watches processes and terminal sessions for you.
- One-shot commands: execute_command. If it outlives its timeout it keeps running; use manage_process (read / kill) with the pid it returns.
- A shell that keeps its state (cwd, variables): create_session {profile:"shell"}, then exec_command for each command (exact output and exit code).
- Agent CLIs: create_session {profile:"claude"}, wait_for ready, prompt_agent (answers the reply), answer when it asks something.
- Any interactive program: create_session, then send_input, wait_for (a state, an output pattern or exit — never poll), read_output / read_screen, terminate_session.
- Output reads never consume: each read continues where this connection last read, or from an explicit offset.`;

/** A new MCP server (one per connection: its read cursors are that connection's) with every Corral tool. */
export function createCorralMcpServer(backend: McpBackend, options: CorralMcpOptions): McpServer {
  const server = new McpServer({ name: 'corral', version: options.version }, { instructions: INSTRUCTIONS });
  const context = createToolContext(backend);
  for (const tool of CORRAL_TOOLS) tool.register(server, context);
  return server;
}
