// The faces `corral serve` attaches besides REST: MCP over HTTP, the per-session WebSocket, events, webhooks,
// the dashboard. Each gets the daemon's FaceContext; none builds or knows another.

import { engineBackends, McpHttpFace } from '../mcp/McpHttpFace.js';
import { frontDoorBackends } from '../mcp/frontDoorBackend.js';
import { DashboardFace } from '../server/dashboard/dashboardFace.js';
import { EventsFace } from '../server/events/eventsFace.js';
import type { DaemonFace, FaceContext } from '../server/face.js';
import { WebhooksFace } from '../server/webhooks/webhooksFace.js';
import { WebSocketFace } from '../server/ws/wsFace.js';

export function defaultFaces(): DaemonFace[] {
  return [new McpHttpFace({ backends: mcpBackends }), new WebSocketFace(), new EventsFace(), new WebhooksFace(), new DashboardFace()];
}

/**
 * MCP's tools on a single daemon call its engine in-process. On a fleet node they call this node's own REST front
 * door, which answers for every node (lists the fleet, places creates, routes each session's calls to its node).
 */
function mcpBackends(context: FaceContext): ReturnType<typeof engineBackends> {
  return context.fleetNode === undefined ? engineBackends(context) : frontDoorBackends(context);
}
