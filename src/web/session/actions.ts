// How the session view's buttons act on the daemon: the call, then a refresh of the session in the live list;
// a failure is shown to the user, never thrown into the void.

import { ApiError } from '../api.js';
import type { LiveSessions } from '../liveSessions.js';

/** Runs `action`; `label` names it in the message if it fails. */
export type Act = (label: string, action: () => Promise<unknown>) => void;

export function actionRunner(sessionId: string, live: LiveSessions, showError: (text: string) => void): Act {
  return (label, action) => {
    action().then(
      () => void live.refresh(sessionId),
      (error: unknown) => showError(error instanceof ApiError ? `${label}: ${error.message}` : `${label}: ${String(error)}`),
    );
  };
}
