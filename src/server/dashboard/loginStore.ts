// What dashboard logins need persisted (the daemon passes its Store, which has these methods; this face never
// imports the store itself): a hash of each browser session's cookie and its expiry.

export interface StoredLogin {
  /** sha256 (base64url) of the cookie's value. */
  idHash: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface LoginStore {
  saveLogin(login: StoredLogin): void;
  deleteLogin(idHash: string): void;
  /** Logins not expired at `now`, oldest first; expired ones are deleted. */
  liveLogins(now: number): StoredLogin[];
}
