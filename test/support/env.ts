/** Environment variables a test file changes, put back afterwards. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/** Remembers the current values of `names`; the returned function restores them (unset ones are deleted). */
export function saveEnv(...names: string[]): () => void {
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * Points QIYE_DATA_DIR (the local stack's and the CLI's data folder) at a fresh temporary
 * folder before each test (`each`) or once for the file's tests (`all`), and puts the
 * variable back and removes the folder afterwards. Returns the current folder.
 */
export function tempDataDir(prefix: string, scope: 'each' | 'all'): () => string {
  let dir: string | undefined;
  let restore: (() => void) | undefined;
  const [before, after] = scope === 'each' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(() => {
    restore = saveEnv('QIYE_DATA_DIR');
    dir = mkdtempSync(join(tmpdir(), prefix));
    process.env.QIYE_DATA_DIR = dir;
  });
  after(() => {
    restore?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('tempDataDir: no folder outside a test');
    return dir;
  };
}
