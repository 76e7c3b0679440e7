// The faces `corral serve` attaches besides REST: MCP over HTTP, the per-session WebSocket, events, webhooks,
// the dashboard. Each gets the daemon's FaceContext; none builds or knows another.

import { McpHttpFace } from '../mcp/McpHttpFace.js';
import { DashboardFace } from '../server/dashboard/dashboardFace.js';
import { EventsFace } from '../server/events/eventsFace.js';
import type { DaemonFace } from '../server/face.js';
import { WebhooksFace } from '../server/webhooks/webhooksFace.js';
import { WebSocketFace } from '../server/ws/wsFace.js';

export function defaultFaces(): DaemonFace[] {
  return [new McpHttpFace(), new WebSocketFace(), new EventsFace(), new WebhooksFace(), new DashboardFace()];
}
