// SQLite's "cannot write now" errors, translated once at the store's boundary into the catalog codes the engine
// and the faces act on: a full (or read-only) disk is STORAGE_FULL, another connection's lock is STORE_BUSY. Every
// other error passes through untouched: it is a bug or a corrupt file, and must surface as such.

import { CorralError } from '../protocol/errors.js';

/** Set when the daemon opened the store read-only because the disk was full at start: why writes are refused. */
export interface ReadOnlyReason {
  message: string;
}

function sqliteCode(error: unknown): string | null {
  // better-sqlite3's SqliteError carries SQLite's extended result code name (SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_WRITE).
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

/** True for the errors a full disk raises while opening or writing: SQLITE_FULL, and I/O errors with ENOSPC behind them. */
export function isDiskFullError(error: unknown): boolean {
  const code = sqliteCode(error) ?? (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || (typeof code === 'string' && code.startsWith('SQLITE_IOERR'));
}

/** The catalog error for a store error the caller can wait out, or null for anything else. */
export function translateStoreError(error: unknown, readOnly: ReadOnlyReason | null): CorralError | null {
  const code = sqliteCode(error);
  if (code === null) return null;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new CorralError('STORE_BUSY', 'The store is locked by another process; nothing was changed. Retry shortly.', {
      cause: error,
      details: { sqlite: code },
    });
  }
  if (code.startsWith('SQLITE_READONLY') && readOnly !== null) {
    return new CorralError('STORAGE_FULL', readOnly.message, { cause: error, details: { sqlite: code, readOnly: true } });
  }
  if (isDiskFullError(error)) {
    return new CorralError(
      'STORAGE_FULL',
      'The disk holding the data dir is full: the store cannot record anything new. Sessions keep running and keep ' +
        'their output in memory; free space and the daemon catches up.',
      { cause: error, details: { sqlite: code } },
    );
  }
  return null;
}
