// Attaches the per-session WebSocket (`/ws/sessions/{id}`) to the daemon's HTTP server. State lives per daemon
// in the SessionSocketServer this creates; the face object itself holds none, so one face can serve many daemons.

import { CorralError } from '../../protocol/errors.js';
import type { DaemonFace, FaceContext } from '../face.js';
import { SessionSocketServer, type SocketServerOptions } from './SessionSocketServer.js';

export class WebSocketFace implements DaemonFace {
  /** The server of the last daemon attached (tests look at pause state and client counts through it). */
  last: SessionSocketServer | null = null;

  constructor(private readonly options: Omit<SocketServerOptions, 'log'> = {}) {}

  attach(context: FaceContext): void {
    const server = new SessionSocketServer(context.engine, context.door, {
      ...this.options,
      log: (level, message, fields) => context.logger[level](fields ?? {}, message),
    });
    server.listen(context.app.server);
    const listed = context.tasks.add(server);
    // Before the HTTP server closes: upgraded sockets would otherwise keep app.close() waiting forever.
    context.app.addHook('preClose', (done) => {
      server.closeAll(new CorralError('SHUTTING_DOWN', 'The daemon is shutting down.'));
      server.dispose();
      listed.dispose();
      done();
    });
    this.last = server;
  }
}
