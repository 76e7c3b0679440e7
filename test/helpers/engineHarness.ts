// Starts a real engine (SQLite store in a temp dir, real PTYs and processes) for a test and tears it down.

import { mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultEngineConfig, type EngineConfig } from '../../src/engine/EngineConfig.js';
import { SessionManager, type EngineLogger } from '../../src/engine/SessionManager.js';
import { Store } from '../../src/store/Store.js';

export interface EngineHarness {
  manager: SessionManager;
  store: Store;
  dataDir: string;
  root: string;
  logs: { level: string; message: string; fields?: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startEngine(overrides: Partial<EngineConfig> = {}): Promise<EngineHarness> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-engine-')));
  const dataDir = join(base, 'data');
  const root = join(base, 'work');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(root, { recursive: true });
  const config: EngineConfig = {
    ...defaultEngineConfig(dataDir, [root]),
    graces: { politeMs: 500, interruptMs: 300, termMs: 500 },
    ...overrides,
  };
  const store = Store.open(dataDir);
  const logs: EngineHarness['logs'] = [];
  const log: EngineLogger = (level, message, fields) => logs.push({ level, message, fields });
  const manager = new SessionManager(config, store, log);
  await manager.start();
  return {
    manager,
    store,
    dataDir,
    root,
    logs,
    async close() {
      await manager.shutdown();
      store.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}
