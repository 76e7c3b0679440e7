// How a session is held and walled in, as short text for people (the CLI's `show`, the dashboard's session header):
// its containment (cgroup v2/v1 or the sweep) with the limits set, and its sandbox (bubblewrap, network, binds) or
// why it has none. Shared by every face so they say the same thing; absent fields (records of older daemons) say nothing.

import type { SessionInfo } from './sessionTypes.js';

const MIB = 1024 * 1024;

/** `cgroup v1, limits: processes 100, memory 512 MiB`; null when the record does not say. */
export function containmentText(info: Pick<SessionInfo, 'containment' | 'limits'>): string | null {
  if (info.containment === undefined) return null;
  const held = info.containment === 'sweep' ? 'no cgroup (process sweep)' : info.containment.replace('cgroup-', 'cgroup ');
  const { limits } = info;
  const set = [
    limits.processes == null ? null : `processes ${limits.processes}`,
    limits.memoryBytes == null ? null : `memory ${Math.round(limits.memoryBytes / MIB)} MiB`,
    limits.cpuWeight == null ? null : `cpu weight ${limits.cpuWeight}`,
    limits.cpuSeconds == null ? null : `cpu ${limits.cpuSeconds} s`,
    limits.openFiles == null ? null : `open files ${limits.openFiles}`,
  ].filter((part): part is string => part !== null);
  return set.length === 0 ? held : `${held}, limits: ${set.join(', ')}`;
}

/** `sandbox bwrap, network none` or `no sandbox (opted out)`; null when the record does not say. */
export function sandboxText(info: Pick<SessionInfo, 'sandbox'>): string | null {
  const sandbox = info.sandbox;
  if (sandbox === undefined) return null;
  if (sandbox.mode === 'none') return sandbox.reason === 'opted-out' ? 'no sandbox (opted out)' : 'no sandbox';
  return `sandbox bwrap, network ${sandbox.network}`;
}

/** What a sandboxed session sees of the host: `writable: /work/t1, /root; read-only: /usr, /etc`; null without a sandbox. */
export function sandboxBindsText(info: Pick<SessionInfo, 'sandbox'>): string | null {
  const sandbox = info.sandbox;
  if (sandbox === undefined || sandbox.mode === 'none') return null;
  return `writable: ${sandbox.writable.join(', ') || 'none'}; read-only: ${sandbox.readOnly.join(', ') || 'none'}`;
}
