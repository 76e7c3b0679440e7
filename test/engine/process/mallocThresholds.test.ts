// The daemon fixes glibc's malloc thresholds at start (issue 18: RSS after a burst of sessions). The effect is
// measured by bench/memoryBench.ts; this checks the call does what it says where it can (glibc).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../../src/engine/process/nativeBinding.js';

test('fixMallocThresholds sets the thresholds on glibc and says so', () => {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const glibc = header?.glibcVersionRuntime !== undefined;
  assert.equal(native.fixMallocThresholds(), glibc);
  // Idempotent: the daemon may call it again (a restart in the same process, tests).
  assert.equal(native.fixMallocThresholds(), glibc);
});
