// Durations as people type and read them on a command line: `30s`, `500ms`, `2m`, `1h`, `1m30s`.
// Pure string ↔ number conversion: never reads the clock.

/** Units a duration may use, in milliseconds. */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * Parses `30s`, `500ms`, `2m`, `1h`, `1m30s` (a bare number is seconds, as `timeout(1)` reads it).
 * Throws a RangeError naming the option on anything else.
 */
export function parseDuration(text: string, option = 'duration'): number {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let match = PART.exec(trimmed); match !== null; match = PART.exec(trimmed)) {
    const [whole, amount, unit] = match;
    const scale = unit === undefined ? undefined : UNIT_MS[unit];
    if (amount === undefined || scale === undefined) break;
    total += Number(amount) * scale;
    consumed += whole.length;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new RangeError(`--${option}: "${text}" is not a duration (use e.g. 500ms, 30s, 2m, 1h)`);
  }
  return Math.round(total);
}

/** A short human duration: `850ms`, `42s`, `3m`, `2h5m`, `3d`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 === 0 || minutes >= 10 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d`;
}
