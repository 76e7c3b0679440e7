// daemon.json on a full disk (issue 15): its space is claimed at start, so a daemon that starts read-only on a disk
// that fills up while it starts is still found; without that claim an old file a crash left is overwritten in place;
// with neither the disk's refusal is answered (false), never thrown, and nothing aside is left behind.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DaemonInfoFile } from '../../src/daemon/daemonInfoFile.js';
import { mountSmallDisk } from '../helpers/smallDisk.js';

test('on a full disk daemon.json goes into the space claimed at start, else into the old file, else the refusal is answered', (t) => {
  const disk = mountSmallDisk(1);
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  try {
    const infoPath = join(disk.dir, 'daemon.json');
    // A daemon killed before it listened left its file aside: the next start removes it.
    writeFileSync(`${infoPath}.999999.tmp`, 'stale');

    // Claimed while there was room; the disk fills before the daemon listens.
    const reserved = DaemonInfoFile.reserve(infoPath);
    assert.deepEqual(readdirSync(disk.dir).sort(), [`daemon.json.${process.pid}.tmp`]);
    disk.fill();
    assert.equal(disk.freeBytes(), 0);
    assert.equal(reserved.write({ url: 'http://127.0.0.1:45678', pid: 4242 }), true);
    assert.deepEqual(JSON.parse(readFileSync(infoPath, 'utf8')), { url: 'http://127.0.0.1:45678', pid: 4242 });
    assert.deepEqual(readdirSync(disk.dir).sort(), ['daemon.json', 'filler'], 'no file aside is left behind');

    // Full already at start: nothing could be claimed, and the old daemon.json takes the new contents in place.
    const unreserved = DaemonInfoFile.reserve(infoPath);
    assert.equal(unreserved.write({ url: 'http://127.0.0.1:5', pid: 5 }), true);
    assert.deepEqual(JSON.parse(readFileSync(infoPath, 'utf8')), { url: 'http://127.0.0.1:5', pid: 5 });

    // Neither a claim nor an old file: answered, not thrown.
    const nowhere = DaemonInfoFile.reserve(join(disk.dir, 'other.json'));
    assert.equal(nowhere.write({ url: 'http://127.0.0.1:1', pid: 1 }), false);
    assert.deepEqual(readdirSync(disk.dir).sort(), ['daemon.json', 'filler']);

    // A start that never listened gives its claim back.
    disk.unfill();
    const abandoned = DaemonInfoFile.reserve(infoPath);
    abandoned.discard();
    assert.deepEqual(readdirSync(disk.dir).sort(), ['daemon.json']);
  } finally {
    disk.unmount();
  }
});
