// `corral mcp` over stdio: the Corral tools on stdin/stdout, each call one REST request to the daemon. Stdout
// carries only MCP messages (logs go to stderr). Ending this process ends no Corral session.

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Corral } from '../client/Corral.js';
import { createCorralMcpServer } from './corralTools.js';
import { RemoteBackend } from './RemoteBackend.js';

/** Serves until stdin closes (the MCP client went away), then resolves. */
export async function runStdioMcp(client: Corral, version: string): Promise<void> {
  const server = createCorralMcpServer(new RemoteBackend(client), { version });
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = resolve;
  });
  await server.connect(new StdioServerTransport());
  const stop = (): void => void server.close();
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  await closed;
}
