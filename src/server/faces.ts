// The faces that attach to the daemon's server and engine besides REST (WebSocket, events, MCP, dashboard).
// `corral serve` starts the daemon with all of them.

import type { DaemonFace } from './daemon.js';
import { DashboardFace } from './dashboard/dashboardFace.js';
import { McpHttpFace } from '../mcp/McpHttpFace.js';
import { EventsFace } from './events/eventsFace.js';
import { WebSocketFace } from './ws/wsFace.js';

export const DAEMON_FACES: DaemonFace[] = [new McpHttpFace(), new WebSocketFace(), new EventsFace(), new DashboardFace()];
