// daemon.json on a full disk: the old file a crash left behind is overwritten in place, so clients find a daemon
// that started read-only; without an old file the disk's refusal is reported as it is.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeDaemonInfo } from '../../src/daemon/daemonInfoFile.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

test('on a full disk daemon.json is rewritten in the space of the old one, and a missing one is an ENOSPC', (t) => {
  const disk = mountSmallDisk(1);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  try {
    const infoPath = join(disk.dir, 'daemon.json');
    writeFileSync(infoPath, JSON.stringify({ url: 'http://127.0.0.1:1', pid: 1 }) + '\n');
    disk.fill();
    writeDaemonInfo(infoPath, { url: 'http://127.0.0.1:45678', pid: 4242 });
    assert.deepEqual(JSON.parse(readFileSync(infoPath, 'utf8')), { url: 'http://127.0.0.1:45678', pid: 4242 });
    assert.deepEqual(readdirSync(disk.dir).sort(), ['daemon.json', 'filler'], 'no file aside is left behind');

    assert.throws(() => writeDaemonInfo(join(disk.dir, 'other.json'), { url: 'http://127.0.0.1:1', pid: 1 }), { code: 'ENOSPC' });
  } finally {
    disk.unmount();
  }
});
