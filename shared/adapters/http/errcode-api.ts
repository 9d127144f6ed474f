/**
 * What DingTalk's oapi (reference dingtalk.md §4) and WeCom's cgi-bin (wecom.md §4) have in
 * common: JSON answers in a `{errcode, errmsg, …}` envelope, an access token from a
 * `gettoken` call answering `{access_token, expires_in}`, 60020 errmsgs that name our IP,
 * and the client plumbing around them (timeouts, retries, rate limiters). The errcodes,
 * their meaning and the extra envelope fields stay with each vendor's adapter.
 */
import { z } from 'zod';
import { readTenantSecret, type SecretValue } from '../../config/secrets';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { NotConfiguredError, UpstreamError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { SecretStore } from '../../ports/secret-store';
import type { CallMeter, MeteredCall } from '../../ports/usage-meter';
import type { RateLimiter, RateLimiterRegistry } from './rate-limiter';
import type { RetryOptions } from './retry';

/** The envelope both vendors answer with; `errcode` 0 is success. Extra fields are kept. */
export const errcodeEnvelopeSchema = z.looseObject({
  errcode: z.number().int(),
  errmsg: z.string().optional(),
});

/** GET /gettoken → the access token and its lifetime in seconds (7200 for both vendors). */
export const gettokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().int().positive(),
});

/** An optional string field where the vendors send "", null or nothing alike: all become undefined. */
export const optionalText = z
  .string()
  .nullish()
  .transform((s) => (s ? s : undefined));

/** The parsed body, or undefined when it is not JSON (an HTML error page, a cut answer). */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Where an answer did not have the expected shape: the first three paths zod refused. */
export function shapeIssuePaths(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => i.path.join('.') || '(root)')
    .join(', ');
}

/** How an error message names the failure: the errcode, else the HTTP status, else the kind. */
export function failureLabel(init: { errcode?: number; httpStatus?: number; kind: string }): string {
  return init.errcode !== undefined ? `errcode ${init.errcode}` : init.httpStatus !== undefined ? `HTTP ${init.httpStatus}` : init.kind;
}

/**
 * Our IP as the vendor reports it in a 60020 errmsg (DingTalk `…request ip=1.2.3.4 appKey(…)`,
 * WeCom `…, from ip: 1.2.3.4, more info at …`), or undefined when the message has none.
 */
export function ipFromErrmsg(errmsg: string | undefined): string | undefined {
  const m = /ip\s*[=:：]\s*([0-9a-fA-F][0-9a-fA-F:.]*[0-9a-fA-F])/i.exec(errmsg ?? '');
  return m?.[1];
}

/**
 * An errmsg from the wire, already stripped of secrets by the vendor's own redaction: kept
 * short (200 characters) and printable (ASCII, CJK punctuation, ideographs, full-width forms).
 */
export function printableErrmsg(redacted: string): string {
  return redacted.replace(/[^\x20-\x7e\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/g, '?').slice(0, 200);
}

/** Options every errcode-API client takes besides its tenant, config and secrets. */
export interface ErrcodeClientTuning {
  timeoutMs?: number;
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Backoff sleep and jitter (tests pass fast or recording ones). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Share limiters between clients of the same app or corp (keys `<vendor>:<app or corp>:<api>`). */
  limiters?: RateLimiterRegistry;
  clock?: Clock;
  logger?: Logger;
  /** Our egress IP, when configured; named in the 60020 message if the vendor's errmsg lacks it. */
  egressIp?: string;
  /** Counts every request sent (retries included) by tenant, vendor and API (ports/usage-meter.ts). */
  meter?: CallMeter;
}

/** What a client factory is given: where the secrets are, and the client's own options. */
export type TenantClientDeps<O> = { secrets: SecretStore; stage: string; secretName?: string } & O;

/**
 * What a DingTalk or WeCom client factory takes from the tenant: its `vendor` section
 * (NotConfiguredError `<VENDOR>.NOT_CONFIGURED` without one) and a lazy read of its secret,
 * the tenant's or `secretName` (an extra channel, shared/config/channels.ts), refused with
 * `<VENDOR>.SECRET_MISSING` when missing or malformed. `options`: the rest of `deps`.
 */
export function tenantClientSetup<V extends 'dingtalk' | 'wecom', O extends object>(
  tenant: TenantConfig,
  vendor: V,
  deps: TenantClientDeps<O>,
): { config: NonNullable<TenantConfig[V]>; options: O; readSecret: () => Promise<SecretValue<V>> } {
  const config = tenant[vendor];
  const code = vendor.toUpperCase();
  if (!config) throw new NotConfiguredError(`Tenant ${tenant.id} has no ${vendor} section`, { code: `${code}.NOT_CONFIGURED` });
  const { secrets, stage, secretName: name, ...options } = deps;
  return {
    config: config as NonNullable<TenantConfig[V]>,
    options: options as O,
    readSecret: () => readTenantSecret(secrets, { stage, tenantId: tenant.id, kind: vendor, code: `${code}.SECRET_MISSING`, name }),
  };
}

/**
 * The rate limiter of one API of an app or corp (registry `key` `<vendor>:<app or corp>:<api>`),
 * metered: every acquire is one request about to be sent (retries included), so `call` is
 * recorded on `meter` there.
 */
export function meteredApiLimiter(limiters: RateLimiterRegistry, opts: { key: string; requestsPerSecond: number; meter: CallMeter | undefined; call: MeteredCall }): RateLimiter {
  const limiter = limiters.get(opts.key, { requestsPerSecond: opts.requestsPerSecond });
  const { meter, call } = opts;
  if (!meter) return limiter;
  return {
    acquire: () => {
      meter.record(call);
      return limiter.acquire();
    },
  };
}

/**
 * Retry settings for one call of `api`: 4 retries, base delay 1 s (both vendors count per
 * second or slower), `maxDelayMs` unless the client was told otherwise; each retry logged
 * as `<vendor> call retried` with the error's code and errcode.
 */
export function errcodeRetryOptions(tuning: ErrcodeClientTuning, opts: { vendor: string; api: string; maxDelayMs: number; logger: Logger | undefined }): RetryOptions {
  return {
    maxRetries: tuning.maxRetries ?? 4,
    baseDelayMs: tuning.retryBaseDelayMs ?? 1000,
    maxDelayMs: tuning.retryMaxDelayMs ?? opts.maxDelayMs,
    sleep: tuning.sleep,
    random: tuning.random,
    onRetry: (err, attempt, delayMs) =>
      opts.logger?.warn(`${opts.vendor} call retried`, { api: opts.api, attempt, delayMs, code: (err as { code?: string }).code, errcode: (err as { errcode?: number }).errcode }),
  };
}

/**
 * An errcode classifier from a table `kind -> errcodes`: each errcode belongs to one kind at
 * most (a code listed twice is a programming error, refused at load), and any errcode not
 * listed is `otherwise`.
 */
export function errcodeClassifier<K extends string>(kinds: Partial<Record<K, readonly number[]>>, otherwise: K): (errcode: number) => K {
  const byCode = new Map<number, K>();
  for (const [kind, codes] of Object.entries(kinds) as Array<[K, readonly number[]]>) {
    for (const code of codes) {
      if (byCode.has(code)) throw new Error(`errcode ${code} is listed under ${byCode.get(code)} and ${kind}`);
      byCode.set(code, kind);
    }
  }
  return (errcode) => byCode.get(errcode) ?? otherwise;
}

/** What every failed errcode-API call records (the vendor's init types add their own fields). */
export interface ErrcodeApiErrorInit<K extends string> {
  tenantId: string;
  /** API path such as `user/get`. Never its query string. */
  api: string;
  kind: K;
  errcode?: number;
  errmsg?: string;
  httpStatus?: number;
  cause?: unknown;
}

/** The kinds both vendors retry: throttling (back off) and the vendor's own failures (-1, HTTP 5xx). */
export const RETRYABLE_ERRCODE_KINDS: ReadonlySet<string> = new Set(['throttled', 'server']);

/**
 * A failed call to DingTalk's or WeCom's errcode API: `kind` says what to do, `errcode` keeps
 * the vendor's code; RETRYABLE_ERRCODE_KINDS are retryable. Each vendor's subclass supplies
 * the error code of each kind and the message (naming tenant and API, never a token or secret).
 */
export abstract class ErrcodeApiError<K extends string> extends UpstreamError {
  readonly kind: K;
  readonly api: string;
  readonly errcode: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(vendor: string, codes: Record<K, string>, message: string, init: ErrcodeApiErrorInit<K>, details: Record<string, unknown> = {}) {
    super(vendor, codes[init.kind], message, {
      retryable: RETRYABLE_ERRCODE_KINDS.has(init.kind),
      cause: init.cause,
      details: { tenant: init.tenantId, api: init.api, kind: init.kind, errcode: init.errcode, httpStatus: init.httpStatus, ...details },
    });
    this.kind = init.kind;
    this.api = init.api;
    this.errcode = init.errcode;
    this.httpStatus = init.httpStatus;
  }
}
