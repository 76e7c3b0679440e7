// zod schemas of what a WebSocket client sends (`/ws/sessions/{id}`, PRODUCT §5): its text frames and the query of
// its upgrade URL. Apart from wsFrames.ts so the frame codec stays free of zod for the web bundle.

import { z } from 'zod';
import { MAX_COLS, MAX_INPUT_BYTES, MAX_ROWS, signalNameSchema } from './api.js';
import type { ClientFrame } from './wsFrames.js';

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('input'), data: z.string().max(MAX_INPUT_BYTES) }).strict(),
  z
    .object({ type: z.literal('resize'), cols: z.number().int().min(2).max(MAX_COLS), rows: z.number().int().min(2).max(MAX_ROWS), take: z.boolean().optional() })
    .strict(),
  z.object({ type: z.literal('signal'), name: signalNameSchema }).strict(),
  z.object({ type: z.literal('ack'), offset: z.number().int().min(0) }).strict(),
]);
// The hand-written ClientFrame (wsFrames.ts) must stay what this schema accepts.
const _sameShape: z.ZodType<ClientFrame> = clientFrameSchema;
void _sameShape;

/** Query of the upgrade URL. */
export const socketQuerySchema = z
  .object({
    since: z.coerce.number().int().min(0).optional(),
    mode: z.enum(['read-write', 'read-only']).default('read-write'),
    /** `pause`: this client accepts that the session waits for it (the rule is in SessionChannel). Default `isolate`. */
    flow: z.enum(['isolate', 'pause']).default('isolate'),
    screen: z.enum(['0', '1']).default('0'),
  });
export type SocketQuery = z.infer<typeof socketQuerySchema>;
