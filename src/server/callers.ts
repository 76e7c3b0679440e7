// Which requests act for a session's scoped token: the door records the caller of each such request here (keyed by
// the raw request, so nothing of it outlives the request), and routes and faces read it back to confine what they do.

import type { IncomingMessage } from 'node:http';
import type { ScopedCaller } from '../engine/engineTypes.js';

const callers = new WeakMap<IncomingMessage, ScopedCaller>();

export function setScopedCaller(request: IncomingMessage, caller: ScopedCaller): void {
  callers.set(request, caller);
}

/** The scoped caller of a request, or undefined when the owner (the daemon's token, the dashboard) sent it. */
export function scopedCallerOf(request: IncomingMessage): ScopedCaller | undefined {
  return callers.get(request);
}
