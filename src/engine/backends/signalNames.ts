// Signal numbers to names (Linux), for exit information that says how a process ended.

import { constants } from 'node:os';

const BY_NUMBER = new Map<number, string>(
  Object.entries(constants.signals).map(([name, num]) => [num, name] as [number, string]),
);

export function signalName(signo: number): string {
  return BY_NUMBER.get(signo) ?? `SIG${signo}`;
}

export function signalNumber(name: string): number | undefined {
  const key = (name.startsWith('SIG') ? name : `SIG${name}`).toUpperCase();
  return (constants.signals as Record<string, number | undefined>)[key];
}
