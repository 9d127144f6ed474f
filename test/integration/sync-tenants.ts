/** Sync tests' tenants: many on one shared NetEase simulator, each with a generated org. */
import { afterAll, beforeAll } from 'vitest';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { generateOrg } from '../fixtures/org-generator';
import { createSyncHarness, MemoryDirectorySource, type HarnessOptions, type SyncHarness } from './sync-harness';

/**
 * One NetEase simulator for a test file (started before its tests, stopped after them, after
 * anything given to `onStop`) and `setup()`, a fresh tenant (own domain) on it with a small
 * generated org. Tenants are named `<prefix><n>-acme`; org n is generated with seed orgSeed + n.
 */
export function harnessesOnOneSimulator(o: { simSeed: number; orgSeed: number; prefix: string; departments: number; people: number }): {
  setup(opts?: HarnessOptions & { departments?: number; people?: number }): Promise<SyncHarness>;
  onStop(stop: () => Promise<void>): void;
} {
  let sim: RunningNeteaseSimulator | undefined;
  let counter = 0;
  const stoppers: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    sim = await startNeteaseSimulator({ seed: o.simSeed });
  });
  afterAll(async () => {
    for (const stop of stoppers) await stop();
    await sim?.stop();
  });
  return {
    async setup(opts = {}) {
      const tenantId = `${o.prefix}${++counter}-acme`;
      const domain = `${tenantId}.example.com`;
      const org = generateOrg({ seed: o.orgSeed + counter, departments: opts.departments ?? o.departments, people: opts.people ?? o.people, domain });
      return createSyncHarness({ sim, tenantId, domain, source: new MemoryDirectorySource(org.departments, org.people), ...opts });
    },
    onStop: (stop) => void stoppers.push(stop),
  };
}
