/**
 * Accept one DingTalk or WeCom callback: the flow both vendors share.
 *
 *   tenant → size → callback secret → verify + decrypt + parse (vendor step) →
 *   [contact event] dedup lease → enqueue → dedup complete → answer
 *
 * The vendor's CallbackVerifier (shared/ports/callback-verifier.ts, implemented by
 * the DingTalk and WeCom adapters) does the crypto and parsing; this
 * module decides what is refused, what is acknowledged and what is enqueued, in that order.
 *
 * Rules:
 * - Every refusal is a 4xx carrying a `CALLBACK.*` / `TENANT.*` code, thrown before anything is
 *   written: no queue message, no dedup record. Unknown tenants all get the same 404.
 * - Only ids leave this module: the `callback` queue gets ContactEventMessages (v: 1, ids only,
 *   shared/contracts/contact-event.ts). Logs carry tenant, vendor, code, eventType and the
 *   number of ids; never the decrypted body, the ids themselves, tokens or keys.
 * - "Nothing lost": success is answered only after the event is on the queue. When the queue
 *   refuses, the answer is a 5xx and the vendor retries (wecom.md §1: only HTTP 200 counts;
 *   dingtalk.md §1: a failed push is retried and listed in the failed-push records).
 */
import { FUNCTIONS } from '../../contracts/app-manifest';
import { toContactEventMessages, type ContactEvent, type ContactEventVendor } from '../../contracts/contact-event';
import { channelView, findChannel, type TenantChannel } from '../../config/channels';
import { CHANNEL_ID, TENANT_ID, type TenantConfig } from '../../config/tenant-config.schema';
import {
  CallbackError,
  CallbackTooLargeError,
  DEFAULT_WINDOW_SECONDS,
  MAX_CALLBACK_BYTES,
  checkSize,
  parseRawQuery,
} from '../../crypto/callback-crypto-common';
import { AppError, NotConfiguredError, NotFoundError, isAppError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { JobQueue } from '../../ports/job-queue';
import type { BusinessMetrics } from '../../ports/metrics';
import type { CallbackVerifier, ReplyBody, VerifiedCallback } from '../../ports/callback-verifier';
import type { OnceStore } from '../../ports/once-store';

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

/** One HTTP request as the callback functions receive it (API Gateway v2 fields). */
export interface CallbackHttpRequest {
  /** The `{tenant}` path parameter. */
  tenantId: string | undefined;
  /**
   * The `{channel}` path parameter: an extra channel's id (`channels[].id`), or undefined on
   * the tenant's own route (its top-level `dingtalk` / `wecom` app).
   */
  channelId?: string | undefined;
  method: string;
  /**
   * The raw, still URL-encoded query string (API Gateway `rawQueryString`). Never the decoded
   * `queryStringParameters`: form decoding turns `+` into a space (wecom.md §1 pitfall).
   */
  rawQuery: string | undefined;
  body: string | undefined;
  /** API Gateway base64-encodes bodies whose content type it does not consider text. */
  isBase64Encoded?: boolean;
}

/** What was done with an accepted request (for logs, tests and the benchmark). */
export type CallbackOutcome =
  /** A contact event, now on the `callback` queue. */
  | 'enqueued'
  /** The same event was accepted before: acknowledged, not enqueued again. */
  | 'duplicate'
  /** DingTalk `check_url` (the console saving the URL): acknowledged. */
  | 'check_url'
  /** WeCom GET URL verification: the echostr plaintext was sent back. */
  | 'url_verified'
  /** Authentic, but not an event we act on (org_admin_add, text messages, update_tag...). */
  | 'ignored'
  /** Authentic, well-formed, but its content cannot be used (CALLBACK.BAD_PAYLOAD). */
  | 'unusable'
  /** The same event is being accepted right now by another request: answered 503. */
  | 'busy';

/** The HTTP answer; the handler copies it as is. */
export interface CallbackReply {
  status: 200 | 503;
  contentType: string;
  body: string;
  outcome: CallbackOutcome;
}

/** A channel's callback credentials, as stored in its `dingtalk` / `wecom` secret (shared/config/channels.ts channelSecretName). */
export interface CallbackSecretValue {
  callbackToken?: string;
  callbackAesKey?: string;
}

export interface AcceptCallbackDeps {
  /** The tenant's config, or undefined when no such tenant is declared. */
  tenant(id: string): TenantConfig | undefined;
  /**
   * The channel's `dingtalk` / `wecom` secret (only the callback fields are read): the tenant's
   * own for the top-level section, the channel's for an extra channel.
   * @throws NotConfiguredError when the secret is absent or invalid.
   */
  callbackSecret(tenant: TenantConfig, channel: TenantChannel): Promise<CallbackSecretValue>;
  once: OnceStore;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  /** Where accepted, ignored and refused callbacks are counted (CallbacksAccepted, CallbacksIgnored, CallbacksRefused). */
  metrics: BusinessMetrics;
  /** Accepted clock difference for signed timestamps (default 300 s). */
  windowSeconds?: number;
  /** How long an accepted event id is remembered (default 3 days). */
  dedupTtlSeconds?: number;
}

// ---------------------------------------------------------------------------------------------
// Policy constants

/**
 * Event ids are remembered 3 days. Vendor retries come within minutes (WeCom: 3 tries, 5 s
 * apart, wecom.md §1; DingTalk publishes no numbers, dingtalk.md §1), so this is generous,
 * and anything arriving later is harmless: the worker re-reads the current state.
 */
export const DEFAULT_EVENT_DEDUP_TTL_SECONDS = 3 * 24 * 3600;

/**
 * The dedup lease covers dedup → enqueue → complete of one request, which cannot outlive the
 * function (5 s timeout in the manifest). A crashed request therefore blocks a retry of the
 * same event for at most this long; a retry inside it gets a 503 and is retried again.
 */
export const EVENT_LEASE_SECONDS = Math.max(FUNCTIONS.dingtalkCallback.timeoutSeconds, FUNCTIONS.wecomCallback.timeoutSeconds) + 1;

/** The largest body as API Gateway may deliver it base64-encoded. */
const MAX_BASE64_BODY_CHARS = Math.ceil(MAX_CALLBACK_BYTES / 3) * 4;

// ---------------------------------------------------------------------------------------------
// The flow

/**
 * Accepts one callback request for `vendor`: refuses it (throws), answers it at once (URL
 * checks), or acknowledges it after putting its contact event on the `callback` queue.
 *
 * Deduplication and "nothing lost" (the order matters):
 * 1. `once.begin(tenant, 'event', '<vendor>:<eventId>')` takes a short lease on the event.
 *    `completed` → a duplicate: acknowledged, not enqueued again. `busy` → the same event is
 *    being accepted right now: 503, so the vendor retries once that request has finished.
 * 2. The ContactEventMessages are sent to the `callback` queue.
 * 3. Only then `once.complete(...)` marks the event accepted, and success is answered.
 * If the send fails, the lease is released and the answer is a 5xx: the vendor's retry finds
 * no record and enqueues normally. A plain `claim()` before the send could not be undone and
 * would turn that retry into a "duplicate" (the event lost); a claim after the send would not
 * deduplicate concurrent deliveries at all. With begin/complete the worst case (a crash
 * between send and complete) is one duplicate message after the lease, which is harmless:
 * the worker re-reads each object's current state, so applying an event twice changes nothing.
 *
 * Authentic-but-unusable payloads (CALLBACK.BAD_PAYLOAD: a well-formed event naming no ids,
 * invalid ids, no EventType) are acknowledged and counted in a warn log, not refused: they
 * passed the signature, receiver and timestamp checks, so they come from the vendor, and a
 * refusal only makes the vendor retry the same bytes (and count our URL as failing) while the
 * next scheduled sync repairs whatever the event meant. Payloads that are not even a JSON
 * object or safe, well-formed XML are still refused (4xx): that is not format drift.
 *
 * @throws NotFoundError TENANT.UNKNOWN (404, same body for every unknown id, and for tenants
 *         without this vendor); CallbackError (4xx) for bad requests; NotConfiguredError
 *         (501) when the tenant's callback token or AES key is missing; AppError
 *         CALLBACK.ENQUEUE_FAILED (retryable, not exposed: the HTTP layer answers a generic 500)
 *         when the queue refused the event.
 */
export async function acceptCallback(deps: AcceptCallbackDeps, verifier: CallbackVerifier, req: CallbackHttpRequest): Promise<CallbackReply> {
  const vendor = verifier.vendor;
  const tenantLabel = req.tenantId !== undefined && TENANT_ID.test(req.tenantId) ? req.tenantId : '?';
  const channelLabel = req.channelId !== undefined && CHANNEL_ID.test(req.channelId) ? { channel: req.channelId } : {};
  const log = deps.logger.child({ tenant: tenantLabel, vendor, ...channelLabel });
  let verified: VerifiedCallback;
  let tenant: TenantConfig;
  let channel: TenantChannel;
  try {
    ({ tenant, channel } = resolveChannel(deps, vendor, req.tenantId, req.channelId));
    const body = readBody(req);
    const secret = await readCallbackSecret(deps, tenant, channel);
    const query = parseRawQuery(req.rawQuery ?? '');
    verified = verifier.verify({
      // The channel's own corp id / app key: an event of another org is refused as not ours.
      tenant: channelView(tenant, channel),
      token: secret.token,
      aesKey: secret.aesKey,
      method: req.method.toUpperCase(),
      query,
      body,
      now: deps.clock.now(),
      windowSeconds: deps.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
    });
  } catch (err) {
    if (isAppError(err) && err.status < 500) {
      log.warn('callback refused', { code: err.code, status: err.status });
      deps.metrics.count('CallbacksRefused', 1, { vendor, code: err.code, ...(tenantLabel !== '?' ? { tenant: tenantLabel } : {}) });
    }
    throw err;
  }

  switch (verified.kind) {
    case 'answer':
      log.info('callback answered', { outcome: verified.outcome, eventType: verified.eventType });
      return reply(200, verified.reply(), verified.outcome);
    case 'ignored':
      // Counted as CallbacksIgnored (by vendor); the event type is in the log line only (free text, not a dimension).
      log.info('callback ignored', { outcome: 'ignored', eventType: verified.eventType });
      deps.metrics.count('CallbacksIgnored', 1, { vendor, tenant: tenant.id });
      return reply(200, verified.ack(), 'ignored');
    case 'unusable':
      log.warn('callback unusable', { outcome: 'unusable', code: verified.error.code, eventType: verified.eventType });
      return reply(200, verified.ack(), 'unusable');
    case 'contact':
      break;
  }

  const event = verified.event;
  const ids = event.changes.length;
  // Contact events of the directory the tenant syncs from drive the sync; those of another
  // vendor (a tenant on EKP that uses DingTalk for SSO and notices) refresh its identity
  // links in the worker (shared/use-cases/links/links-from-events.ts), as do those of an extra
  // channel (its own route). A tenant whose sync is switched off gets no callback-driven sync changes.
  if (channel.native && !tenant.sync.enabled) {
    log.info('callback ignored', { outcome: 'ignored', reason: 'not the sync source', eventType: event.eventType, ids });
    deps.metrics.count('CallbacksIgnored', 1, { vendor, tenant: tenant.id });
    return reply(200, verified.ack(), 'ignored');
  }

  // An extra channel's events are deduplicated under keys of their own, so one org's event ids
  // can never shadow another's (neither vendor documents its ids as unique across orgs; our
  // choice). The top-level app keeps the key it always had (records already stored still count).
  const extraId = channel.id === vendor ? undefined : channel.id;
  const dedupKey = extraId === undefined ? `${vendor}:${event.eventId}` : `${vendor}/${extraId}:${event.eventId}`;
  const ttlSeconds = deps.dedupTtlSeconds ?? DEFAULT_EVENT_DEDUP_TTL_SECONDS;
  const lease = await deps.once.begin(tenant.id, 'event', dedupKey, { leaseSeconds: EVENT_LEASE_SECONDS, ttlSeconds });
  if (lease.status === 'completed') {
    log.info('callback duplicate', { outcome: 'duplicate', eventType: event.eventType, ids });
    return reply(200, verified.ack(), 'duplicate');
  }
  if (lease.status === 'busy') {
    log.warn('callback busy', { outcome: 'busy', eventType: event.eventType, ids });
    return { status: 503, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ error: 'CALLBACK.IN_PROGRESS' }), outcome: 'busy' };
  }

  const receivedAt = deps.clock.now();
  const messages = toContactEventMessages(event, { tenantId: tenant.id, channelId: extraId, receivedAt });
  try {
    await deps.jobs.send(
      'callback',
      messages.map((body) => ({ body })),
    );
  } catch (cause) {
    // Give the lease back so the vendor's retry is accepted at once; if even that fails, the
    // lease runs out after EVENT_LEASE_SECONDS.
    await deps.once.release(tenant.id, 'event', dedupKey, lease.token).catch((err: unknown) => log.warn('dedup lease release failed', { error: errorSummary(err) }));
    throw new AppError('CALLBACK.ENQUEUE_FAILED', 'The event could not be queued; the vendor will retry.', {
      status: 503,
      retryable: true,
      expose: false,
      cause,
      details: { tenant: tenant.id, vendor },
    });
  }
  try {
    await deps.once.complete(tenant.id, 'event', dedupKey, { receivedAt, messages: messages.length }, { ttlSeconds });
  } catch (err) {
    // The event is on the queue, so success is the truthful answer. Without the record, a
    // retry after the lease could enqueue it again: harmless (see above).
    log.warn('dedup record not completed', { error: errorSummary(err) });
  }
  log.info('callback accepted', { outcome: 'enqueued', eventType: event.eventType, ids, messages: messages.length, attempt: lease.attempt });
  deps.metrics.count('CallbacksAccepted', 1, { vendor, tenant: tenant.id });
  return reply(200, verified.ack(), 'enqueued');
}

function reply(status: 200, body: ReplyBody, outcome: CallbackOutcome): CallbackReply {
  return { status, contentType: body.contentType, body: body.body, outcome };
}

/** Code and message only: store errors carry no request data, but we keep logs lean. */
function errorSummary(err: unknown): Record<string, unknown> {
  return isAppError(err) ? { code: err.code, message: err.message } : { message: err instanceof Error ? err.message : String(err) };
}

// ---------------------------------------------------------------------------------------------
// Steps shared by both vendors

/**
 * The tenant named in the path and the channel whose app the URL belongs to: without a channel
 * id, the tenant's top-level section of this vendor; with one, the extra channel of that id and
 * vendor (the top-level section has only the short URL). Every other case gets the same 404
 * body, so the endpoint does not tell which tenant or channel ids exist.
 */
function resolveChannel(deps: AcceptCallbackDeps, vendor: ContactEventVendor, id: string | undefined, channelId: string | undefined): { tenant: TenantConfig; channel: TenantChannel } {
  const tenant = id !== undefined && TENANT_ID.test(id) ? deps.tenant(id) : undefined;
  const wanted = channelId ?? vendor;
  // `/<vendor>/<tenant>/<vendor>` is not the top-level app's URL: it has only the short one.
  const channel = tenant && channelId !== vendor ? findChannel(tenant, vendor, wanted) : undefined;
  if (!tenant || !channel) throw new NotFoundError('Unknown callback endpoint.', { code: 'TENANT.UNKNOWN' });
  return { tenant, channel };
}

/**
 * The body as text, refused above MAX_CALLBACK_BYTES (413) before anything parses it.
 * API Gateway base64-encodes bodies of non-text content types; the size is checked before and
 * after decoding so a huge body is never decoded.
 */
function readBody(req: CallbackHttpRequest): string {
  const raw = req.body ?? '';
  if (!req.isBase64Encoded) {
    checkSize(raw, MAX_CALLBACK_BYTES, 'callback body');
    return raw;
  }
  if (raw.length > MAX_BASE64_BODY_CHARS) throw new CallbackTooLargeError(`callback body is larger than ${MAX_CALLBACK_BYTES} bytes`);
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length > MAX_CALLBACK_BYTES) throw new CallbackTooLargeError(`callback body is larger than ${MAX_CALLBACK_BYTES} bytes`);
  return bytes.toString('utf8');
}

/** The callback token and AES key, or a 501 naming the secret and what is missing. */
async function readCallbackSecret(deps: AcceptCallbackDeps, tenant: TenantConfig, channel: TenantChannel): Promise<{ token: string; aesKey: string }> {
  const s = await deps.callbackSecret(tenant, channel);
  const missing = [s.callbackToken ? undefined : 'callbackToken', s.callbackAesKey ? undefined : 'callbackAesKey'].filter((x) => x !== undefined);
  if (missing.length > 0) {
    const vendor = channel.vendor;
    const whose = channel.id === vendor ? `its ${vendor} secret` : `the ${vendor} secret of its channel "${channel.id}"`;
    throw new NotConfiguredError(`Callbacks are not configured for tenant "${tenant.id}": set ${missing.join(' and ')} in ${whose}.`, {
      code: 'CALLBACK.NOT_CONFIGURED',
      details: { tenant: tenant.id, vendor, ...(channel.id === vendor ? {} : { channel: channel.id }), missing },
    });
  }
  return { token: s.callbackToken as string, aesKey: s.callbackAesKey as string };
}
