/**
 * What DingTalk's oapi (reference dingtalk.md §4) and WeCom's cgi-bin (wecom.md §4) have in
 * common: JSON answers in a `{errcode, errmsg, …}` envelope, an access token from a
 * `gettoken` call answering `{access_token, expires_in}`, 60020 errmsgs that name our IP,
 * and the client plumbing around them (timeouts, retries, rate limiters). The errcodes,
 * their meaning and the extra envelope fields stay with each vendor's adapter.
 */
import { z } from 'zod';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { CallMeter } from '../../ports/usage-meter';
import type { RateLimiterRegistry } from './rate-limiter';
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
