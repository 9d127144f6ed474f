/**
 * Test harness for the DingTalk / WeCom callback handlers: the real `makeHandler`s with
 * in-memory state stores, a recording JobQueue, a fixed clock and the sandbox tenants of
 * config/tenants.local.json, driven with API Gateway v2 events built exactly as the local
 * gateway builds them (local/http-gateway.ts buildHttpApiEvent + matchRoute).
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { makeHandler as makeDingtalkHandler } from '../../functions/http/dingtalk-callback/handler';
import { makeHandler as makeWecomHandler } from '../../functions/http/wecom-callback/handler';
import { buildHttpApiEvent, matchRoute } from '../../local/http-gateway';
import { makeContext } from '../../local/lambda-invoke';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { loadTenantsFile } from '../../shared/config/load-config';
import { ROUTES, type QueueName } from '../../shared/contracts/app-manifest';
import { parseContactEventMessage, type ContactEventMessage } from '../../shared/contracts/contact-event';
import { createMemoryLogger } from '../../shared/logging/logger';
import { fixedClock } from '../../shared/ports/clock';
import type { JobQueue, OutgoingMessage } from '../../shared/ports/job-queue';
import { recordingMetrics } from '../../shared/ports/metrics';
import type { OnceStore } from '../../shared/ports/once-store';
import type { CallbackSecretValue } from '../../shared/use-cases/callbacks/accept-callback';
import type { CallbackRequest, CallbackTenant, CallbackVendor } from '../fixtures/bad-callbacks';

export const NOW = Date.parse('2025-10-09T08:00:00.000Z');
export const TENANT_IDS: Record<CallbackVendor, string> = { dingtalk: 'sandbox-dingtalk', wecom: 'sandbox-wecom' };

/** A JobQueue that records what it was asked to send, and can be told to fail. */
export class RecordingQueue implements JobQueue {
  readonly sent: Array<{ queue: QueueName; body: unknown }> = [];
  /** Number of upcoming send() calls that fail (before sending anything). */
  failures = 0;
  calls = 0;
  async send(queue: QueueName, messages: readonly OutgoingMessage[]): Promise<void> {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error('simulated SQS outage');
    }
    // Round-trip through JSON, as SQS would.
    for (const m of messages) this.sent.push({ queue, body: JSON.parse(JSON.stringify(m.body)) });
  }
  /** The callback-queue messages, validated against our contract. */
  contactEvents(): ContactEventMessage[] {
    return this.sent.filter((s) => s.queue === 'callback').map((s) => parseContactEventMessage(s.body));
  }
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Harness = ReturnType<typeof createHarness>;

/** Fresh stores, queue, logger and secrets (random token and key per tenant). */
export function createHarness() {
  const config = loadTenantsFile('config/tenants.local.json');
  const clock = fixedClock(NOW);
  const stores = createMemoryStateStores({ clock });
  const queue = new RecordingQueue();
  const logger = createMemoryLogger('debug');
  const secrets = new Map<string, CallbackSecretValue>();
  const tenants: Record<CallbackVendor, CallbackTenant> = {
    dingtalk: { token: 'dt' + randomBytes(9).toString('base64url'), aesKey: randomBytes(32).toString('base64').slice(0, 43), receiverId: 'dingsandboxappkey01', corpId: 'dingsandboxcorp0001' },
    wecom: { token: 'wc' + randomBytes(9).toString('base64url'), aesKey: randomBytes(32).toString('base64').slice(0, 43), receiverId: 'wwsandboxcorp00001' },
  };
  for (const v of ['dingtalk', 'wecom'] as const) secrets.set(`${TENANT_IDS[v]}/${v}`, { callbackToken: tenants[v].token, callbackAesKey: tenants[v].aesKey });
  // Every call that reaches the dedup store, to prove that refusals never get that far.
  const onceCalls: Array<{ method: string; key: string }> = [];
  const once: OnceStore = new Proxy(stores.once, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        onceCalls.push({ method: String(prop), key: String(args[2]) });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const deps = {
    tenant: (id: string) => config.tenants.find((t) => t.id === id),
    // `<tenant>/<vendor>` for the top-level app, `<tenant>/<vendor>/<channel>` for an extra channel.
    callbackSecret: async (t: { id: string }, c: { id: string; vendor: CallbackVendor }) => secrets.get(c.id === c.vendor ? `${t.id}/${c.vendor}` : `${t.id}/${c.vendor}/${c.id}`) ?? {},
    once,
    jobs: queue,
    clock,
    logger,
    metrics: recordingMetrics(),
  };
  const handlers = { dingtalk: makeDingtalkHandler(deps), wecom: makeWecomHandler(deps) };

  /** Sends `req` to the vendor's route for `tenantId` (default: that vendor's sandbox tenant), or to an extra channel's route. */
  async function send(vendor: CallbackVendor, req: CallbackRequest, opts: { tenantId?: string; channelId?: string; base64?: boolean } = {}): Promise<HttpAnswer> {
    const event = toEvent(vendor, req, opts.tenantId ?? TENANT_IDS[vendor], opts.base64 ?? false, opts.channelId);
    const result = (await handlers[vendor](event, makeContext({ name: `${vendor}Callback`, timeoutSeconds: 5, memoryMb: 256, stage: 'test' }, Date.now() + 5000))) as {
      statusCode: number;
      headers?: Record<string, string>;
      body?: string;
    };
    return { status: result.statusCode, headers: result.headers ?? {}, body: result.body ?? '' };
  }

  return { config, clock, stores, onceCalls, queue, logger, secrets, tenants, deps, handlers, send };
}

/** The payload-2.0 event the gateway would build (base64 body when `base64`, as for non-text content types). */
export function toEvent(vendor: CallbackVendor, req: CallbackRequest, tenantId: string, base64: boolean, channelId?: string): APIGatewayProxyEventV2 {
  const path = `/callbacks/${vendor}/${encodeURIComponent(tenantId)}${channelId === undefined ? '' : `/${encodeURIComponent(channelId)}`}`;
  const match = matchRoute(ROUTES, req.method, path);
  if (!match) throw new Error(`no route for ${req.method} ${path}`);
  return buildHttpApiEvent(
    {
      method: req.method,
      url: `${path}${req.rawQuery ? `?${req.rawQuery}` : ''}`,
      headers: { 'content-type': [base64 ? 'application/octet-stream' : req.contentType], host: ['127.0.0.1:3000'] },
      body: Buffer.from(req.body, 'utf8'),
      sourceIp: '127.0.0.1',
      protocol: 'HTTP/1.1',
    },
    { match, domainName: '127.0.0.1:3000', apiId: 'test' },
  );
}

/** Every log line as one string, for "never logged" assertions. */
export function allLogText(h: Harness): string {
  return h.logger.lines.map((l) => JSON.stringify(l)).join('\n');
}
