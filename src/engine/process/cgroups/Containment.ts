// How sessions' process trees are held, decided once at daemon start: a cgroup per session on cgroup v2 (where the
// daemon may create child cgroups: root, or a delegated subtree), on the cgroup v1 pids/freezer/memory/cpu
// hierarchies, or — where neither works — only the descendant sweep of treeKiller.ts. It creates, finds again (after a
// daemon restart) and wraps the program's argv so the program joins its cgroup before it execs.
// Must never fall back silently: a forced mode that does not work is an error at start, and `auto` says what it chose.
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CorralError } from '../../../protocol/errors.js';
import { errnoCode } from '../nativeBinding.js';
import type { ContainmentMode } from '../../../protocol/sessionTypes.js';
import { cgroupMounts, makeCgroupDir, processCgroups, readCgroupFile, readProcs, removeCgroupDir, writeCgroupFile, type CgroupMount } from './cgroupFs.js';
import { CgroupV1, type V1Controller, type V1Hierarchy } from './CgroupV1.js';
import { CgroupV2 } from './CgroupV2.js';
import type { CgroupLimits, SessionCgroup } from './SessionCgroup.js';
import type { ContainmentChoice } from '../../EngineConfig.js';
import type { PassedFile } from '../../sandbox/bwrapCommand.js';

// src/engine/process/cgroups and dist/engine/process/cgroups both sit four levels below the repo root.
export const CGROUP_ENTER_PATH = fileURLToPath(new URL('../../../../native/build/Release/corral-cgroup-enter', import.meta.url));

/** The directory under the daemon's own cgroup that holds one child cgroup per session. */
const SESSIONS_DIR = 'corral';
const V1_REQUIRED: readonly V1Controller[] = ['pids', 'freezer'];
const V1_OPTIONAL: readonly V1Controller[] = ['memory', 'cpu', 'cpuacct'];
const V2_CONTROLLERS = ['pids', 'memory', 'cpu'];
/** How the kernel refuses to hand a controller down (see delegateControllers). */
const CONTROLLER_REFUSALS: ReadonlySet<string> = new Set(['EBUSY', 'EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOENT']);

/** Session ids name directories: nothing that could leave the sessions dir. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** One session cgroup layout: where the per-session directories go, and how to build a session's cgroup. */
interface Layout {
  mode: ContainmentMode;
  /** Limits this layout can enforce at all (the controllers it has). */
  controllers: string[];
  cgroup(sessionId: string): CgroupV1 | CgroupV2;
  /** The session's cgroup if it exists (a restarted daemon finds the cgroups of sessions it reattaches). */
  existing(sessionId: string): SessionCgroup | null;
  /** The shared `corral` directories the sessions' cgroups go in (one per hierarchy). */
  sessionsDirs: string[];
  /** Makes the sessions directories again, with their settings, when a stopping daemon removed them (see release). */
  prepare(): void;
}

export class Containment {
  private constructor(
    readonly mode: ContainmentMode,
    /** Why this mode, for the start log. */
    readonly detail: string,
    private readonly layout: Layout | null,
    private readonly enterPath: string,
  ) {}

  /** Sessions only swept (tests and embedders that want no cgroups, and machines without them). */
  static sweepOnly(detail = 'containment disabled'): Containment {
    return new Containment('sweep', detail, null, CGROUP_ENTER_PATH);
  }

  /** Decides once: a forced mode that does not work throws; `auto` falls back, and `detail` says why. */
  static detect(choice: ContainmentChoice, enterPath = CGROUP_ENTER_PATH): Containment {
    if (choice === 'sweep') return Containment.sweepOnly('--containment sweep: processes are found by tree and marker only');
    const problems: string[] = [];
    const tryLayout = (mode: ContainmentMode, build: () => Layout): Containment | null => {
      try {
        const layout = build();
        if (!existsSync(enterPath)) throw new Error(`${enterPath} is missing (run npm run build:native)`);
        return new Containment(mode, `${mode}: per-session cgroups (limits: ${layout.controllers.join(', ') || 'none'})`, layout, enterPath);
      } catch (error) {
        // Any failure (EACCES/EROFS on a read-only or undelegated cgroupfs, a hierarchy not mounted) means this
        // layout cannot hold sessions here: the reason goes into the start log, or the forced mode's error.
        problems.push(`${mode}: ${(error as Error).message}`);
        return null;
      }
    };
    const mounts = cgroupMounts();
    if (choice === 'cgroup-v2' || choice === 'cgroup-v1') {
      const found = tryLayout(choice, () => (choice === 'cgroup-v2' ? v2Layout(mounts) : v1Layout(mounts)));
      // A start-up configuration error: the daemon refuses to start rather than run sessions uncontained.
      if (found === null) throw new Error(`--containment ${choice} is not usable here: ${problems.join('; ')}`);
      return found;
    }
    // auto: v2 when it can enforce the pids limit (a pure v2 machine, or controllers delegated to us); else the v1
    // hierarchies (hybrid machines bind the controllers there); else v2 without limits (it still kills whole trees).
    const v2 = tryLayout('cgroup-v2', () => v2Layout(mounts));
    if (v2 !== null && v2.layout?.controllers.includes('pids') === true) return v2;
    const v1 = tryLayout('cgroup-v1', () => v1Layout(mounts));
    if (v1 !== null) {
      // The v2 probe made its sessions directory: not ours to keep when v1 holds the sessions.
      v2?.release();
      return v1;
    }
    if (v2 !== null) return v2;
    return Containment.sweepOnly(`no usable cgroup hierarchy (${problems.join('; ')}): processes are found by tree and marker only`);
  }

  /**
   * A new cgroup for a session, with its limits set; null in sweep mode. Throws SPAWN_FAILED when it cannot be
   * made: a session is never started uncontained on a machine that contains sessions.
   */
  create(sessionId: string, limits: CgroupLimits): SessionCgroup | null {
    if (this.layout === null) return null;
    if (!SESSION_ID_PATTERN.test(sessionId)) throw new CorralError('SPAWN_FAILED', `Cannot name a cgroup after session id "${sessionId}".`);
    const cgroup = this.layout.cgroup(sessionId);
    try {
      this.layout.prepare();
      for (const dir of cgroup.directories) makeCgroupDir(dir);
      cgroup.applyLimits(limits);
    } catch (error) {
      for (const dir of cgroup.directories) removeCgroupDir(dir);
      throw new CorralError('SPAWN_FAILED', `Cannot create the session's cgroup (${this.mode}): ${(error as Error).message}`, { cause: error });
    }
    return cgroup;
  }

  /**
   * At the daemon's stop: removes the shared `corral` directories that hold no session any more, so a machine keeps
   * no trace of a daemon that is gone. The kernel refuses (EBUSY) to remove a cgroup with a child cgroup or a process
   * in it, so a directory still holding a session (one left running under its holder by design, or another
   * daemon's in the same cgroup) is kept, and is answered in `kept`.
   */
  release(): { removed: string[]; kept: string[] } {
    const removed: string[] = [];
    const kept: string[] = [];
    for (const dir of this.layout?.sessionsDirs ?? []) {
      let gone: boolean;
      try {
        gone = removeCgroupDir(dir);
      } catch {
        // EACCES/EROFS (the cgroupfs turned read-only for us): the directory stays, as a busy one does; the stop goes on.
        gone = false;
      }
      (gone ? removed : kept).push(dir);
    }
    return { removed, kept };
  }

  /** The cgroup of a session an earlier daemon started, when it still exists. */
  find(sessionId: string): SessionCgroup | null {
    if (this.layout === null || !SESSION_ID_PATTERN.test(sessionId)) return null;
    return this.layout.existing(sessionId);
  }

  /**
   * argv that joins `cgroup` and then execs `argv` in the same process (no fork, no window outside it).
   * A sandbox's bwrap also gets the session's group signals ignored and its init's files opened at fixed
   * descriptors (see cgroup_enter.c, bwrapCommand.ts); the wrapper then runs even without a cgroup.
   */
  wrap(argv: readonly string[], cgroup: SessionCgroup | null, sandbox?: { files: readonly PassedFile[] }): string[] {
    if (cgroup === null && sandbox === undefined) return [...argv];
    const sandboxArgs =
      sandbox === undefined
        ? []
        : ['--ignore-group-signals', ...sandbox.files.flatMap((file) => [file.mode === 'read' ? '--open-read' : '--open-write', String(file.fd), file.path])];
    return [this.enterPath, ...sandboxArgs, ...(cgroup?.procsFiles ?? []), '--', ...argv];
  }
}

/** The daemon's own cgroup path in a hierarchy, made relative to where that hierarchy is mounted. */
function ownPath(mount: CgroupMount, key: string): string {
  const path = processCgroups('self').get(key);
  if (path === undefined) throw new Error(`this process has no cgroup in ${mount.mountPoint}`);
  const root = mount.root === '/' ? '' : mount.root;
  // A container sees its own cgroup namespace: paths are already relative to the mount's root.
  return root !== '' && path.startsWith(root) ? path.slice(root.length) || '/' : path;
}

/** Proves we may create (and remove) child cgroups under `parent`. */
function probe(parentDir: string): void {
  makeCgroupDir(parentDir);
  const probeDir = join(parentDir, `probe-${process.pid}`);
  makeCgroupDir(probeDir);
  removeCgroupDir(probeDir);
}

function v2Layout(mounts: readonly CgroupMount[]): Layout {
  const mount = mounts.find((m) => m.version === 2);
  if (mount === undefined) throw new Error('no cgroup2 hierarchy is mounted');
  const own = ownPath(mount, '');
  const sessionsPath = posix.join(own, SESSIONS_DIR);
  const sessionsDir = join(mount.mountPoint, sessionsPath);
  probe(sessionsDir);
  // The root cgroup has no cgroup.kill: ask a child (ours).
  if (!existsSync(join(sessionsDir, 'cgroup.kill'))) throw new Error('the kernel has no cgroup.kill (needs Linux 5.14)');
  const controllers = delegateControllers(join(mount.mountPoint, own), sessionsDir, own === '/');
  return {
    mode: 'cgroup-v2',
    controllers,
    sessionsDirs: [sessionsDir],
    prepare: () => {
      if (existsSync(sessionsDir)) return;
      // Another daemon sharing our cgroup removed it at its stop: a fresh one hands the controllers down again (a
      // session cgroup made in a bare one would have no limits files, and the limits would fail closed).
      makeCgroupDir(sessionsDir);
      for (const name of controllers) writeCgroupFile(join(sessionsDir, 'cgroup.subtree_control'), `+${name}`);
    },
    cgroup: (sessionId) => new CgroupV2(sessionId, mount.mountPoint, posix.join(sessionsPath, sessionId)),
    existing: (sessionId) => {
      const cgroup = new CgroupV2(sessionId, mount.mountPoint, posix.join(sessionsPath, sessionId));
      return existsSync(cgroup.dir) ? cgroup : null;
    },
  };
}

/**
 * Enables the controllers our cgroup offers for the sessions' cgroups; returns those that are on. v2 lets a
 * non-root cgroup hand controllers down only while it has no processes of its own ("no internal processes"): a
 * daemon alone in its delegated cgroup (systemd's Delegate=yes) first moves itself into a `daemon` leaf below it,
 * the layout systemd documents for delegation. Where that is not possible (other processes share our cgroup) the
 * limits are not enforced by the cgroup; a session is still held and killed whole.
 */
function delegateControllers(ownDir: string, sessionsDir: string, isRoot: boolean): string[] {
  const offered = (readCgroupFile(join(ownDir, 'cgroup.controllers')) ?? '').trim().split(/\s+/);
  const wanted = V2_CONTROLLERS.filter((name) => offered.includes(name));
  if (wanted.length > 0 && !isRoot) moveIntoLeafWhenAlone(ownDir);
  const enabled: string[] = [];
  for (const name of wanted) {
    try {
      writeCgroupFile(join(ownDir, 'cgroup.subtree_control'), `+${name}`);
      writeCgroupFile(join(sessionsDir, 'cgroup.subtree_control'), `+${name}`);
      enabled.push(name);
    } catch (error) {
      // EBUSY (our cgroup has processes: v2's no-internal-processes rule), EPERM/EACCES (not delegated to us),
      // ENOTSUP/EINVAL (a threaded cgroup, or the controller is bound to a v1 hierarchy): this controller's limits
      // are not enforced; the session's tree is still held and killed whole.
      if (!CONTROLLER_REFUSALS.has(errnoCode(error) ?? '')) throw error;
    }
  }
  return enabled;
}

/** The leaf a daemon alone in its delegated v2 cgroup moves into (see delegateControllers). */
const DAEMON_LEAF = 'daemon';

function moveIntoLeafWhenAlone(ownDir: string): void {
  const members = readProcs(join(ownDir, 'cgroup.procs'));
  if (members.length !== 1 || members[0] !== process.pid) return;
  const leaf = join(ownDir, DAEMON_LEAF);
  makeCgroupDir(leaf);
  // On v2 this moves every thread of the daemon; the holders it starts from now on are born in the leaf too.
  writeCgroupFile(join(leaf, 'cgroup.procs'), String(process.pid));
}

function v1Layout(mounts: readonly CgroupMount[]): Layout {
  const hierarchies = new Map<V1Controller, V1Hierarchy & { own: string }>();
  for (const controller of [...V1_REQUIRED, ...V1_OPTIONAL]) {
    const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
    if (mount === undefined) {
      if (V1_REQUIRED.includes(controller)) throw new Error(`no cgroup v1 ${controller} hierarchy is mounted`);
      continue;
    }
    const key = mount.controllers.join(',');
    hierarchies.set(controller, { mountPoint: mount.mountPoint, key, controllers: mount.controllers, own: ownPath(mount, key) });
  }
  // One directory per hierarchy (cpu and cpuacct are often one mount).
  const distinct = [...new Map([...hierarchies.values()].map((h) => [h.mountPoint, h])).values()];
  for (const hierarchy of distinct) probe(join(hierarchy.mountPoint, hierarchy.own, SESSIONS_DIR));
  const build = (sessionId: string): CgroupV1 =>
    new CgroupV1(
      sessionId,
      distinct.map((hierarchy) => ({ hierarchy, path: posix.join(hierarchy.own, SESSIONS_DIR, sessionId) })),
    );
  const sessionsDirs = distinct.map((hierarchy) => join(hierarchy.mountPoint, hierarchy.own, SESSIONS_DIR));
  return {
    mode: 'cgroup-v1',
    controllers: [...hierarchies.keys()].filter((name) => name !== 'freezer' && name !== 'cpuacct'),
    sessionsDirs,
    // v1 directories carry no settings of their own: a session's cgroup is made with its parents (makeCgroupDir).
    prepare: () => undefined,
    cgroup: build,
    existing: (sessionId) => {
      const cgroup = build(sessionId);
      return cgroup.directories.some((dir) => existsSync(dir)) ? cgroup : null;
    },
  };
}
