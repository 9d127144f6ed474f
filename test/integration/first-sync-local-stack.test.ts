/**
 * The first `npm start`: the local stack with the sandbox tenants of
 * config/tenants.local.json (EKP, DingTalk and WeCom sources, one NetEase simulator), the
 * real handler modules and the real vendor simulators, all on random ports. runFirstSyncs
 * (what local/start.ts runs) gives all three tenants their initial full sync and prints one
 * summary line each; right after it, `simulate callback --tenant sandbox-dingtalk` becomes
 * a mailbox. A second start syncs nothing.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cliMain } from '../../cli/main';
import { runFirstSyncs } from '../../local/first-sync';
import { dingtalkSimulator } from '../../local/simulators/dingtalk';
import { startEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import type { RunningSimulator } from '../../local/simulators/simulator';
import { wecomSimulator } from '../../local/simulators/wecom';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantsFileSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import { saveEnv } from '../support/env';

const SANDBOX_PORTS = { netease: 3101, dingtalk: 3102, wecom: 3103, ekp: 3104 } as const;

let dataDir: string;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
const sims: RunningSimulator[] = [];
const restoreEnv = saveEnv('LOG_LEVEL', 'QIYE_TENANTS_FILE', 'QIYE_DATA_DIR');

beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  dataDir = await mkdtemp(join(tmpdir(), 'qiye-first-start-'));
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  const raw = await readFile('config/tenants.local.json', 'utf8');
  const draft = tenantsFileSchema.parse(JSON.parse(raw)).tenants;
  const common = { host: '127.0.0.1', port: 0, secrets, stage: 'local', dataDir: join(dataDir, 'simulators') };
  netease = await startNeteaseSimulator({ ...common, tenants: draft });
  sims.push(netease);
  // Each sandbox keeps its real seed (EKP about 260 people, DingTalk and WeCom about 45 each).
  sims.push(await startEkpSimulator({ ...common, tenants: draft.filter((t) => t.ekp) }));
  sims.push(await dingtalkSimulator.start({ ...common, tenants: draft.filter((t) => t.dingtalk) }));
  sims.push(await wecomSimulator.start({ ...common, tenants: draft.filter((t) => t.wecom) }));
  // The sandbox tenants file, its simulator URLs moved to the random ports.
  let moved = raw;
  for (const sim of sims) moved = moved.replaceAll(`http://127.0.0.1:${SANDBOX_PORTS[sim.vendor]}`, sim.url);
  const tenantsFile = join(dataDir, 'tenants.local.json');
  await writeFile(tenantsFile, moved);
  stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, schedule: false, simulators: [], logger: createMemoryLogger('error') });
  expect(stack.handlerErrors).toEqual({});
}, 60_000);

afterAll(async () => {
  restoreEnv();
  await stack?.stop();
  for (const sim of sims) await sim.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the first start of the local stack', () => {
  it('runs the initial full sync of every sandbox tenant, one summary line each, and a DingTalk callback works right after', async () => {
    const lines: string[] = [];
    const reports = await runFirstSyncs(stack, { out: (l) => lines.push(l) });

    expect(reports.map((r) => r.tenantId)).toEqual(['sandbox', 'sandbox-dingtalk', 'sandbox-wecom']);
    const stores = createDynamoStateStores(stack.clients.documents, stack.tableName);
    for (const r of reports) {
      expect(r.run, r.tenantId).toMatchObject({ mode: 'full', status: 'success' });
      expect(r.run!.counts.failed, r.tenantId).toBe(0);
      // Every person it mapped has a mailbox in that tenant's NetEase domain.
      const tenant = stack.tenants.tenants.find((t) => t.id === r.tenantId)!;
      const accounts = netease.state(tenant.netease.domain).accounts;
      const mapped: string[] = [];
      for await (const m of stores.mappings.list(tenant.id, tenant.sync.source!, 'person')) if (m.status === 'active') mapped.push(m.neteaseId);
      expect(mapped.length, r.tenantId).toBeGreaterThan(5);
      expect(mapped.filter((a) => !accounts[a]), r.tenantId).toEqual([]);
      expect(r.run!.counts.created, r.tenantId).toBeGreaterThanOrEqual(mapped.length);
    }
    // One summary line per tenant, then the sign-in example.
    for (const r of reports) {
      expect(lines.filter((l) => new RegExp(`^  ${r.tenantId} +success in \\d+\\.\\d s: fetched \\d+; created \\d+,.* \\(run ${r.run!.runId}\\)$`).test(l)), r.tenantId).toHaveLength(1);
    }
    expect(lines[0]).toBe('Initial full sync of "sandbox" (ekp), "sandbox-dingtalk" (dingtalk), "sandbox-wecom" (wecom) -> NetEase simulator...');
    const signIn = lines.findIndex((l) => /^ {2}sign in as \S+@sandbox\.example\.com: npx qiye-bridge sso-link --tenant sandbox --user \S+$/.test(l));
    expect(signIn).toBeGreaterThan(0);
    // Then the EKP sandbox's DingTalk channel: its first links pull and how to use it.
    expect(lines[signIn + 1]).toMatch(/^ {2}links \(sandbox\) dingtalk: 34 users: 30 linked, 3 unmatched, 1 ambiguous /);
    expect(reports[0]!.links?.example).toBeDefined();

    // The README's next step: a DingTalk hire, announced by a signed callback, gets a mailbox.
    const dingtalk = sims.find((s) => s.vendor === 'dingtalk')!;
    const hired = await fetch(`${dingtalk.url}/__sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'sandbox-dingtalk', userid: 'newhire01', name: '新同事', email: 'newhire01@dingtalk.example.com', dept_id_list: [1] }),
    });
    expect(hired.status).toBe(201);
    const out: string[] = [];
    const err: string[] = [];
    const code = await cliMain(['simulate', 'callback', '--tenant', 'sandbox-dingtalk', '--event', 'user_add_org', '--user', 'newhire01', '--url', stack.urls.gateway], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const deadline = Date.now() + 20_000;
    while (!netease.state('dingtalk.example.com').accounts.newhire01 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(netease.state('dingtalk.example.com').accounts.newhire01).toBeDefined();

    // A later start: every tenant has runs, nothing runs again.
    const again: string[] = [];
    const later = await runFirstSyncs(stack, { out: (l) => again.push(l) });
    expect(later.map((r) => r.skipped)).toEqual(Array(3).fill('runs exist already (not the first start)'));
    expect(again).toEqual([]);
  }, 90_000);
});
