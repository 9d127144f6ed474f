/**
 * The local stack from an operator's side: a simulator port that is taken, a real service
 * on this machine (`"simulate": false`), and the data folder's permissions.
 */
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../shared/logging/logger';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { neteaseSimulator } from '../../local/simulators/netease/netease.simulator';
import { simulatedNetease } from '../../local/first-sync';
import { parseTenantsConfig } from '../../shared/config/load-config';

const RANDOM_PORTS = { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 };
let running: LocalStack | undefined;
let blocker: Server | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await running?.stop();
  running = undefined;
  await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
  blocker = undefined;
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A "real service" on a loopback port: answers every request with its own marker. */
async function realService(): Promise<number> {
  blocker = createServer((_req, res) => res.end('real service'));
  await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
  return (blocker.address() as AddressInfo).port;
}

async function tenantsFileWith(netease: Record<string, unknown>): Promise<{ dataDir: string; tenantsFile: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qiye-operator-'));
  dirs.push(dataDir);
  const tenantsFile = join(dataDir, 'tenants.json');
  await writeFile(tenantsFile, JSON.stringify({ tenants: [{ id: 'acme-local', netease: { domain: 'acme.example.com', product: 'p1', region: 'hz', ...netease } }] }));
  return { dataDir, tenantsFile };
}

describe('the local stack for an operator', () => {
  it('names the tenant, the vendor and the URL when a simulator port is taken, and starts nothing', async () => {
    const port = await realService();
    const url = `http://127.0.0.1:${port}/qiyeservice/api`;
    const { dataDir, tenantsFile } = await tenantsFileWith({ apiBaseUrl: url });
    const err = (await startLocalStack({ dataDir, tenantsFile, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: [neteaseSimulator], logger: createMemoryLogger('error') }).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err.code).toBe('LOCAL.SIMULATOR_FAILED');
    expect(err.message).toContain('"acme-local"');
    expect(err.message).toContain('netease');
    expect(err.message).toContain(url);
    expect(err.message).toContain(`port ${port} is already in use`);
    expect(err.message).toContain('"simulate": false');
    // The half-started stack was undone: the same data folder starts at once without the clash.
    await writeFile(tenantsFile, JSON.stringify({ tenants: [{ id: 'acme-local', netease: { domain: 'acme.example.com', product: 'p1', region: 'hz' } }] }));
    running = await startLocalStack({ dataDir, tenantsFile, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: [neteaseSimulator], logger: createMemoryLogger('error') });
  });

  it('uses a real service on loopback when the vendor section says "simulate": false', async () => {
    const port = await realService();
    const { dataDir, tenantsFile } = await tenantsFileWith({ apiBaseUrl: `http://127.0.0.1:${port}/qiyeservice/api`, simulate: false });
    running = await startLocalStack({ dataDir, tenantsFile, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: [neteaseSimulator], logger: createMemoryLogger('error') });
    expect(running.urls.simulators).toEqual([]);
    expect(await (await fetch(`http://127.0.0.1:${port}/qiyeservice/api/domain/getDomain`)).text()).toBe('real service');
    // Nor does the first start's initial sync write into that real NetEase.
    const [real, sim] = parseTenantsConfig(
      {
        tenants: [
          { id: 'real-ne', netease: { domain: 'a.example.com', product: 'p', region: 'hz', apiBaseUrl: `http://127.0.0.1:${port}/api`, simulate: false } },
          { id: 'sim-ne', netease: { domain: 'b.example.com', product: 'p', region: 'hz', apiBaseUrl: `http://127.0.0.1:${port}/api` } },
        ],
      },
      'test',
    ).tenants;
    expect(simulatedNetease(real!)).toBe(false);
    expect(simulatedNetease(sim!)).toBe(true);
  });

  it('forces the data folder to 0700, also when it already existed with a wider mode', async () => {
    const { dataDir, tenantsFile } = await tenantsFileWith({});
    const inner = join(dataDir, 'data');
    await mkdir(inner, { mode: 0o755 });
    await chmod(inner, 0o755);
    running = await startLocalStack({ dataDir: inner, tenantsFile, ports: RANDOM_PORTS, schedule: false, pollers: false, simulators: [], logger: createMemoryLogger('error') });
    expect((await stat(inner)).mode & 0o777).toBe(0o700);
  });
});
