/**
 * Issue "NetEase" item 6 over the wire: the local stack's real SSO function behind its
 * Function URL, with the tenant key generated on first start into the file secret store,
 * the NetEase simulator reading that key, and a signed OA link from `qiye-bridge sso-link`
 * landing on the simulator's "signed in as" page.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cliMain } from '../../cli/main';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { createDynamoStateStores } from '../../shared/adapters/aws/dynamo-state.store';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import { saveEnv } from '../support/env';

const TENANT = 'sso-wire';
const DOMAIN = 'ssowire.example.com';
let dataDir: string;
let stack: LocalStack;
let netease: RunningNeteaseSimulator;
const restoreEnv = saveEnv('LOG_LEVEL', 'QIYE_DATA_DIR', 'QIYE_TENANTS_FILE');

function tenant(neteaseUrl: string) {
  return {
    id: TENANT,
    netease: { domain: DOMAIN, product: 'ssowire', region: 'hz', apiBaseUrl: `${neteaseUrl}/qiyeservice/api`, ssoEntryUrl: `${neteaseUrl}/domain/oa/Entry`, unreadUrl: `${neteaseUrl}/oaserver/user/getUnreadMsg` },
    ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } },
  };
}

beforeAll(async () => {
  process.env.LOG_LEVEL = 'error';
  dataDir = await mkdtemp(join(tmpdir(), 'qiye-sso-wire-'));
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  netease = await startNeteaseSimulator({ tenants: [tenantSchema.parse(tenant('http://127.0.0.1:1'))], secrets, stage: 'local' });
  const tenantsFile = join(dataDir, 'tenants.json');
  await writeFile(tenantsFile, JSON.stringify({ tenants: [tenant(netease.url)] }));
  stack = await startLocalStack({ dataDir, tenantsFile, ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 }, schedule: false, pollers: false, simulators: [], logger: createMemoryLogger('error') });
  process.env.QIYE_DATA_DIR = dataDir;
  process.env.QIYE_TENANTS_FILE = tenantsFile;
  netease.seed(DOMAIN, { accounts: [{ account_name: 'liming', nickname: '李明' }] });
  await createDynamoStateStores(stack.clients.documents, stack.tableName).mappings.put({
    tenantId: TENANT, source: 'ekp', objectType: 'person', sourceId: 'ekp-liming', neteaseId: 'liming', contentHash: 'h', status: 'active', lastRunId: 'test',
  });
}, 60_000);

afterAll(async () => {
  restoreEnv();
  await stack?.stop();
  await netease?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('SSO on the local stack', () => {
  it('a link from `qiye-bridge sso-link` opens the mailbox on the NetEase simulator, once', async () => {
    const out: string[] = [];
    const code = await cliMain(['sso-link', '--tenant', TENANT, '--user', 'ekp-liming', '--module', 'mbox.ListModule', '--base-url', stack.urls.functionUrl], { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const link = out.join('').trim();
    const first = await fetch(link, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const entry = first.headers.get('location')!;
    expect(entry.startsWith(`${netease.url}/domain/oa/Entry?`)).toBe(true);
    const page = await fetch(entry);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`liming@${DOMAIN}`);
    expect(html).toContain('mbox.ListModule');
    // The same link again is refused with a page (its nonce is spent).
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(401);
    expect(again.headers.get('location')).toBeNull();
  });

  it('the HTTP API route answers the same way as the Function URL', async () => {
    const out: string[] = [];
    await cliMain(['sso-link', '--tenant', TENANT, '--user', 'ekp-nobody', '--base-url', stack.urls.gateway], { out: (l) => out.push(l), err: (l) => out.push(l) });
    const res = await fetch(out.join('').trim(), { redirect: 'manual' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('No mailbox is linked');
  });
});
