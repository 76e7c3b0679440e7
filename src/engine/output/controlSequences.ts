// Where terminal control sequences start and end in raw output bytes, so a bounded text read can put its window
// edges outside them (the text view must never show a fragment such as `633;<nonce>;P;Cwd=…`). It mirrors the
// sequences the text view strips (textView.ts): CSI, OSC, DCS/SOS/PM/APC (7- or 8-bit, ended by BEL or ST), nF and
// two-byte escapes. Pure functions over bytes: no Node beyond Buffer, no state.

const ESC = 0x1b;
const BEL = 0x07;
const BACKSLASH = 0x5c;
/** Lead byte of the UTF-8 form of U+0080–U+00BF: the 8-bit C1 controls arrive as C2 xx. */
const C1_LEAD = 0xc2;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
/** The 8-bit controls that open a string: DCS, SOS, OSC, PM, APC. */
const C1_STRING_OPENERS = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** After ESC: OSC (]), DCS (P), SOS (X), PM (^), APC (_). */
const STRING_OPENERS_AFTER_ESC = new Set([0x5d, 0x50, 0x58, 0x5e, 0x5f]);

/** `sequenceEnd` answer when the bytes end inside the sequence: more output may complete it. */
export const INCOMPLETE = -1;

/** Whether a control sequence starts at `at` (an ESC, or an 8-bit CSI or string opener). */
export function startsSequence(bytes: Uint8Array, at: number): boolean {
  const byte = bytes[at];
  if (byte === ESC) return true;
  if (byte !== C1_LEAD) return false;
  const next = bytes[at + 1];
  return next !== undefined && (next === C1_CSI || C1_STRING_OPENERS.has(next));
}

/**
 * End (exclusive) of the control sequence that starts at `at` (where `startsSequence` is true), or `INCOMPLETE`
 * when `bytes` ends inside it. A malformed sequence ends where the text view's pattern stops taking bytes.
 */
export function sequenceEnd(bytes: Uint8Array, at: number): number {
  if (bytes[at] === C1_LEAD) {
    const kind = bytes[at + 1] as number;
    return kind === C1_CSI ? csiEnd(bytes, at + 2, at + 2) : stringEnd(bytes, at + 2, at + 2);
  }
  const kind = bytes[at + 1];
  if (kind === undefined) return INCOMPLETE;
  if (kind === 0x5b) return csiEnd(bytes, at + 2, at + 2);
  if (STRING_OPENERS_AFTER_ESC.has(kind)) return stringEnd(bytes, at + 2, at + 2);
  if (kind >= 0x20 && kind <= 0x2f) {
    let j = at + 1;
    while (j < bytes.length && isIntermediate(bytes[j] as number)) j++;
    if (j >= bytes.length) return INCOMPLETE;
    const final = bytes[j] as number;
    return final >= 0x30 && final <= 0x7e ? j + 1 : at + 1;
  }
  if (kind >= 0x30 && kind <= 0x7e) return at + 2;
  return at + 1; // a lone ESC
}

/**
 * Where the last control sequence of `bytes` that is still open at its end starts, or -1 when the bytes end in the
 * ground state. Scans from `from`, which must be outside any sequence.
 */
export function openSequenceAtEnd(bytes: Uint8Array, from = 0): number {
  let i = from;
  while (i < bytes.length) {
    if (!startsSequence(bytes, i)) {
      i++;
      continue;
    }
    const end = sequenceEnd(bytes, i);
    if (end === INCOMPLETE) return i;
    i = end;
  }
  return -1;
}

/** Index of the last byte before `before` that starts a sequence, or -1. */
export function lastSequenceStart(bytes: Uint8Array, before: number): number {
  for (let i = Math.min(before, bytes.length) - 1; i >= 0; i--) {
    if (startsSequence(bytes, i)) return i;
  }
  return -1;
}

function isIntermediate(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x2f;
}

function csiEnd(bytes: Uint8Array, from: number, malformedEnd: number): number {
  let j = from;
  while (j < bytes.length && (bytes[j] as number) >= 0x30 && (bytes[j] as number) <= 0x3f) j++;
  while (j < bytes.length && isIntermediate(bytes[j] as number)) j++;
  if (j >= bytes.length) return INCOMPLETE;
  const final = bytes[j] as number;
  return final >= 0x40 && final <= 0x7e ? j + 1 : malformedEnd;
}

function stringEnd(bytes: Uint8Array, from: number, malformedEnd: number): number {
  for (let j = from; j < bytes.length; j++) {
    const byte = bytes[j] as number;
    if (byte === BEL) return j + 1;
    if (byte === C1_LEAD) {
      if (j + 1 >= bytes.length) return INCOMPLETE;
      if (bytes[j + 1] === C1_ST) return j + 2;
    }
    if (byte === ESC) {
      if (j + 1 >= bytes.length) return INCOMPLETE;
      return bytes[j + 1] === BACKSLASH ? j + 2 : malformedEnd;
    }
  }
  return INCOMPLETE;
}
