// The daemon's log on a full disk (issue 15): `corral mcp` sends a daemon's stderr to <data>/daemon.log, and pino's
// own destination retried the refused write forever when it flushed at exit, so the daemon never exited. Lines the
// disk refuses are now dropped and counted, the process runs on and exits, and once there is room the log says how
// many were lost. A real node process logs into a file on a real full tmpfs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/daemonHarness.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

/** Far longer than the script needs; a hang (the bug) is killed at this point and shows as a null status. */
const HANG_MS = 60_000;

const SCRIPT = `
import { createLogger } from ${JSON.stringify(join(REPO_ROOT, 'src', 'daemon', 'logger.ts'))};
import { rmSync } from 'node:fs';
const logger = createLogger();
for (let i = 0; i < 3; i++) logger.info({ i, pad: 'x'.repeat(3000) }, 'refused line');
setTimeout(() => {
  logger.info('still running');
  process.stdout.write('ALIVE\\n');
  rmSync(process.argv[2]);
  logger.info('room again');
}, 0);
`;

test('on a full disk the log drops the lines it cannot write, the process runs on and exits, and the loss is logged', (t) => {
  const disk = mountSmallDisk(1);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  try {
    const script = join(disk.dir, 'log.ts');
    writeFileSync(script, SCRIPT);
    const logPath = join(disk.dir, 'daemon.log');
    const logFd = openSync(logPath, 'a');
    disk.fill();
    // Something to free later: the script removes it, so its last line has room.
    const spare = join(disk.dir, 'filler');
    let run;
    try {
      run = spawnSync(process.execPath, ['--import', 'tsx', script, spare], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', logFd], encoding: 'utf8', timeout: HANG_MS });
    } finally {
      closeSync(logFd);
    }
    assert.equal(run.status, 0, `the process did not exit normally (status ${run.status}, signal ${run.signal})`);
    assert.equal(run.stdout, 'ALIVE\n');
    const log = readFileSync(logPath, 'utf8');
    assert.doesNotMatch(log, /refused line/);
    assert.match(log, /log lines could not be written/);
    assert.match(log, /room again/);
  } finally {
    disk.unmount();
  }
});
