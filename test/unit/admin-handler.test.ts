import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadTenantsFile } from '../../shared/config/load-config';
import { createMemoryLogger } from '../../shared/logging/logger';
import { makeHandler } from '../../functions/http/admin/handler';
import { MemorySecrets } from '../fixtures/memory-secrets';

let secrets: MemorySecrets;
const config = loadTenantsFile('config/tenants.local.json');

function req(method: string, path: string, body?: unknown) {
  const h = makeHandler({ config, logger: createMemoryLogger(), secrets, stage: 'local' });
  const event = {
    rawPath: path,
    rawQueryString: '',
    headers: {},
    body: body === undefined ? undefined : JSON.stringify(body),
    requestContext: { requestId: 'r', http: { method, path } },
  } as unknown as APIGatewayProxyEventV2;
  return h(event, {} as Context).then((r) => ({ status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined }));
}

beforeEach(() => {
  secrets = new MemorySecrets();
});

describe('admin API', () => {
  it('lists tenants without any secret value', async () => {
    const r = await req('GET', '/admin/tenants');
    expect(r.status).toBe(200);
    expect(r.body.tenants.map((t: { id: string }) => t.id)).toEqual(['sandbox', 'sandbox-dingtalk', 'sandbox-wecom']);
    expect(r.body.tenants[0].secrets).toContain('qiye-bridge/local/sandbox/netease');
  });

  it('generates a key, returns only the public half, and shows it afterwards', async () => {
    expect((await req('GET', '/admin/tenants/sandbox/keys')).status).toBe(501);
    const created = await req('POST', '/admin/tenants/sandbox/keys', { confirm: 'sandbox', bits: 1024 });
    expect(created.status).toBe(201);
    expect(created.body.publicKeyHex).toMatch(/^30819f300d06092a864886f70d010101050003818d00308189028181/);
    const stored = secrets.values.get('qiye-bridge/local/sandbox/netease')!;
    expect(JSON.stringify(created.body)).not.toContain(stored.privateKeyHex as string);
    const shown = await req('GET', '/admin/tenants/sandbox/keys');
    expect(shown.body.fingerprint).toBe(created.body.fingerprint);
  });

  it('refuses bad input with a clear error and stores nothing', async () => {
    expect((await req('POST', '/admin/tenants/sandbox/keys', { confirm: 'sandbox', bits: 512 })).status).toBe(400);
    expect((await req('POST', '/admin/tenants/nobody/keys', {})).status).toBe(404);
    expect((await req('DELETE', '/admin/tenants')).status).toBe(405);
    expect((await req('GET', '/admin/nothing-here')).status).toBe(404);
    expect(secrets.values.size).toBe(0);
  });

  it('never replaces the live key without an explicit confirmation naming the tenant', async () => {
    const first = await req('POST', '/admin/tenants/sandbox/keys', { confirm: 'sandbox' });
    expect(first.status).toBe(201);
    const live = structuredClone(secrets.values.get('qiye-bridge/local/sandbox/netease'));
    for (const body of [{ x: 1 }, {}, undefined, { confirm: 'sandbox-wecom' }, { confirm: true }, { confirm: 'sandbox', x: 1 }, { confirm: 'sandbox', bits: '2048' }]) {
      const r = await req('POST', '/admin/tenants/sandbox/keys', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.message, JSON.stringify(body)).toContain('{"confirm":"sandbox"}');
    }
    expect(secrets.values.get('qiye-bridge/local/sandbox/netease')).toEqual(live);
  });
});
