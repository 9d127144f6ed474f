/**
 * The EKP `sandbox` tenant of config/tenants.local.json on the real local stack, with its
 * NetEase, DingTalk and EKP simulators on random ports (the tenants file is rewritten to
 * them). `edit` changes the tenant's JSON before anything starts (e.g. an extra channel).
 * Tests call it in beforeAll and `stop()` in afterAll.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDingtalkSimulator, type RunningDingtalkSimulator } from '../../local/simulators/dingtalk';
import { startEkpSimulator } from '../../local/simulators/ekp/ekp.simulator';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import type { RunningSimulator } from '../../local/simulators/simulator';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantsFileSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';

const SANDBOX_PORTS: Record<string, number> = { netease: 3101, dingtalk: 3102, ekp: 3104 };

export interface EkpSandboxStack {
  dataDir: string;
  stack: LocalStack;
  netease: RunningNeteaseSimulator;
  dingtalk: RunningDingtalkSimulator;
  stop(): Promise<void>;
}

export async function startEkpSandboxStack(opts: { prefix: string; edit?: (tenant: Record<string, unknown>) => Record<string, unknown> }): Promise<EkpSandboxStack> {
  const dataDir = await mkdtemp(join(tmpdir(), opts.prefix));
  const sims: RunningSimulator[] = [];
  let stack: LocalStack | undefined;
  const stop = async () => {
    await stack?.stop();
    for (const sim of sims) await sim.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
    // Only the EKP sandbox tenant of the real sandbox file (the other two are not needed here).
    const file = JSON.parse(await readFile('config/tenants.local.json', 'utf8')) as { tenants: Array<Record<string, unknown>> };
    let raw = JSON.stringify({ tenants: file.tenants.filter((t) => t.id === 'sandbox').map((t) => opts.edit?.(t) ?? t) });
    const draft = tenantsFileSchema.parse(JSON.parse(raw)).tenants;
    const common = { host: '127.0.0.1', port: 0, secrets, stage: 'local', dataDir: join(dataDir, 'simulators'), tenants: draft };
    const netease = await startNeteaseSimulator(common);
    sims.push(netease);
    const dingtalk = await startDingtalkSimulator(common);
    sims.push(dingtalk, await startEkpSimulator(common));
    for (const sim of sims) raw = raw.replaceAll(`http://127.0.0.1:${SANDBOX_PORTS[sim.vendor]}`, sim.url);
    const tenantsFile = join(dataDir, 'tenants.local.json');
    await writeFile(tenantsFile, raw);
    stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, schedule: false, simulators: [], logger: createMemoryLogger('error') });
    if (Object.keys(stack.handlerErrors).length > 0) throw new Error(`handlers failed to load: ${JSON.stringify(stack.handlerErrors)}`);
    return { dataDir, stack, netease, dingtalk, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
