/**
 * Over the wire, through the real local stack (gateway → real handler modules → dynalite
 * dedup → fauxqs): `qiye-bridge simulate callback` sends signed, encrypted DingTalk and
 * WeCom callbacks with the sandbox tenants' provisioned secrets, they are acknowledged the way
 * each vendor checks, and the contact events arrive on the `callback` queue. The queue
 * pollers are off, so the messages stay on the queue for this test to read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateCallback } from '../../cli/commands/simulate';
import { createContext } from '../../cli/context';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { secretName } from '../../shared/config/secrets';
import { parseContactEventMessage, type ContactEventMessage } from '../../shared/contracts/contact-event';
import { createMemoryLogger } from '../../shared/logging/logger';
import { buildSimulatedCallback } from '../../shared/use-cases/callbacks/simulate-callback';

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'qiye-callbacks-'));
  stack = await startLocalStack({
    dataDir,
    ports: { gateway: 0, functionUrl: 0, dynamodb: 0, sqs: 0 },
    schedule: false,
    pollers: false,
    // config/tenants.local.json points simulators at fixed ports; callbacks need none.
    simulators: [],
    logger: createMemoryLogger('warn'),
  });
  expect(stack.handlerErrors).not.toHaveProperty('dingtalkCallback');
  expect(stack.handlerErrors).not.toHaveProperty('wecomCallback');
}, 30_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs the CLI command against this stack; returns its exit code and output. */
async function simulate(values: Record<string, string>, cliDataDir = stack.dataDir): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = createContext('local', { out: (l) => out.push(l), err: (l) => err.push(l) }, { QIYE_DATA_DIR: cliDataDir, QIYE_TENANTS_FILE: stack.tenantsFile });
  const code = (await simulateCallback.run({ values: { url: stack.urls.gateway, ...values }, positionals: [] }, ctx)) ?? 0;
  return { code, out, err };
}

/** Every message on the callback queue right now (received and deleted). */
async function drainCallbackQueue(): Promise<ContactEventMessage[]> {
  const out: ContactEventMessage[] = [];
  for (;;) {
    const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.callback.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) return out;
    for (const m of msgs) {
      out.push(parseContactEventMessage(m.Body ?? ''));
      await stack.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queues.callback.url, ReceiptHandle: m.ReceiptHandle }));
    }
  }
}

describe('callbacks through the local stack', () => {
  it('a DingTalk user_add_org sent by `simulate callback` is acknowledged and lands on the callback queue', async () => {
    const res = await simulate({ tenant: 'sandbox-dingtalk', event: 'user_add_org', user: 'newcomer-01' });
    expect(res.err).toEqual([]);
    expect(res.code).toBe(0);
    expect(res.out.join('\n')).toMatch(/-> 200 in \d+ ms: acknowledged \(encrypted "success" verified\)/);
    const msgs = await drainCallbackQueue();
    expect(msgs).toEqual([
      expect.objectContaining({ v: 1, tenantId: 'sandbox-dingtalk', vendor: 'dingtalk', eventType: 'user_add_org', changes: [{ kind: 'person', id: 'newcomer-01', action: 'upsert' }] }),
    ]);
  });

  it('WeCom: the URL verification is answered and a create_user lands on the queue', async () => {
    const verify = await simulate({ tenant: 'sandbox-wecom', event: 'verify_url' });
    expect(verify.code).toBe(0);
    expect(verify.out.join('\n')).toContain('acknowledged (echostr plaintext returned)');
    const created = await simulate({ tenant: 'sandbox-wecom', event: 'update_user', user: 'old-id', 'new-user': 'new-id' });
    expect(created.code).toBe(0);
    expect(await drainCallbackQueue()).toEqual([
      expect.objectContaining({ tenantId: 'sandbox-wecom', vendor: 'wecom', eventType: 'change_contact/update_user', changes: [{ kind: 'person', id: 'old-id', action: 'upsert', newId: 'new-id' }] }),
    ]);
  });

  it('a DingTalk retry of the same event is acknowledged but enqueued once (dedup in DynamoDB); a forged one is refused', async () => {
    const secret = (await stack.clients.secrets.getJson(secretName('local', 'sandbox-dingtalk', 'dingtalk'))) as { callbackToken: string; callbackAesKey: string };
    const tenant = stack.tenants.tenants.find((t) => t.id === 'sandbox-dingtalk');
    if (!tenant) throw new Error('sandbox-dingtalk missing');
    const send = async (cb: ReturnType<typeof buildSimulatedCallback>) => {
      const r = await fetch(`${stack.urls.gateway}${cb.path}?${cb.rawQuery}`, { method: cb.method, headers: { 'content-type': cb.contentType }, body: cb.body });
      const body = await r.text();
      return { status: r.status, body, verdict: cb.verdict(r.status, body) };
    };
    const make = () => buildSimulatedCallback({ tenant, token: secret.callbackToken, aesKey: secret.callbackAesKey, event: 'org_dept_create', ids: ['4242'], eventId: 'evt-retried-over-the-wire', now: Date.now() });
    const first = await send(make());
    const retry = await send(make()); // re-encrypted, new nonce: what a vendor retry looks like
    expect(first.verdict.acknowledged).toBe(true);
    expect(retry.verdict.acknowledged).toBe(true);

    const forged = make();
    const tampered = await send({ ...forged, rawQuery: forged.rawQuery.replace(/signature=([0-9a-f])/, (_m, c: string) => `signature=${c === '0' ? '1' : '0'}`) });
    expect(tampered.status).toBe(401);
    expect(JSON.parse(tampered.body)).toMatchObject({ error: 'CALLBACK.BAD_SIGNATURE' });

    expect(await drainCallbackQueue()).toEqual([expect.objectContaining({ eventId: 'evt-retried-over-the-wire', changes: [{ kind: 'department', id: '4242', action: 'upsert' }] })]);
  });

  it('`simulate callback` explains what is wrong instead of sending', async () => {
    await expect(simulate({ tenant: 'sandbox-dingtalk', event: 'create_user', user: 'x' })).rejects.toThrow(/has no wecom section/);
    await expect(simulate({ tenant: 'sandbox-wecom', event: 'no_such_event' })).rejects.toThrow(/Unknown event "no_such_event"/);
    await expect(simulate({ tenant: 'sandbox-dingtalk', event: 'user_add_org' })).rejects.toThrow(/needs --user/);
    await expect(simulate({ tenant: 'sandbox-dingtalk', event: 'user_add_org', user: 'a', dept: '1' })).rejects.toThrow(/not both/);
    // The CLI holds another token than the stack (another data folder): refused, and it says so.
    const otherDir = join(dataDir, 'other-cli');
    const name = secretName('local', 'sandbox-wecom', 'wecom');
    const real = (await stack.clients.secrets.getJson(name)) as Record<string, string>;
    await new FileSecretStore(join(otherDir, 'secrets.json')).putJson(name, { ...real, callbackToken: 'not-the-configured-token' });
    const res = await simulate({ tenant: 'sandbox-wecom', event: 'delete_user', user: 'someone' }, otherDir);
    expect(res.code).toBe(1);
    expect(res.err.join('\n')).toMatch(/-> 401 in \d+ ms: NOT acknowledged \(HTTP 401\) CALLBACK.BAD_SIGNATURE/);
    expect(await drainCallbackQueue()).toEqual([]);
  });
});
