/**
 * Rate limits and injected faults of the errcode-style simulators (DingTalk, WeCom): both
 * vendors answer `{errcode, errmsg}`, limit calls per app (or corp) and API in fixed
 * windows, and can be told through the control API to fail the next calls, refuse tokens
 * or pretend our IP is not whitelisted. The errcodes themselves stay with each vendor.
 */
import { z } from 'zod';

export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** Fixed rate windows per key (`<tenant> <api>`). */
export class RateWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number) {}

  /** Count one call of `api` for `tenantId`; true when it is over `rate`. */
  hit(tenantId: string, api: string, rate: RateLimit): boolean {
    const key = `${tenantId} ${api}`;
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= rate.windowMs) {
      w = { start: t, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > rate.limit;
  }

  /** Forget a tenant's windows (reset). */
  forget(tenantId: string): void {
    for (const k of this.windows.keys()) if (k.startsWith(`${tenantId} `)) this.windows.delete(k);
  }
}

export interface FailNext {
  errcode: number;
  errmsg?: string;
  count: number;
  /** Only calls of this API; without it, the simulator decides which calls count. */
  api?: string;
}

/** Faults of an errcode-style simulator, per tenant. */
export interface ErrcodeSimFaults {
  /** Answer 60020 (our IP not whitelisted) to every call but gettoken. */
  ipNotWhitelisted: boolean;
  /** Refuse every token with 40014, even fresh ones. */
  rejectTokens: boolean;
  latencyMs: number;
  /** Per-tenant override of the rate limit. */
  rateLimit?: RateLimit;
  /** The next `count` calls (of `api`, or of any call the simulator counts) fail with `errcode`. */
  failNext: FailNext[];
  /**
   * A monthly quota of metered calls (DingTalk §8: 90020 once `used` reaches `limit`, until
   * the quota is raised or cleared). Simulators without a monthly quota ignore it.
   */
  monthlyQuota?: { limit: number; used: number };
}

export const noErrcodeFaults = (): ErrcodeSimFaults => ({ ipNotWhitelisted: false, rejectTokens: false, latencyMs: 0, failNext: [] });

/** The control API's POST /__sim/faults body. */
export const errcodeFaultsSchema = z
  .object({
    tenant: z.string().min(1).optional(),
    ipNotWhitelisted: z.boolean().optional(),
    rejectTokens: z.boolean().optional(),
    expireTokens: z.boolean().optional(),
    rateLimitNext: z.number().int().min(0).max(10_000).optional(),
    failNext: z.object({ errcode: z.number().int(), errmsg: z.string().max(200).optional(), count: z.number().int().min(1).max(10_000), api: z.string().min(1).optional() }).strict().optional(),
    rateLimit: z.object({ limit: z.number().int().min(1), windowMs: z.number().int().min(1).max(3_600_000) }).strict().nullable().optional(),
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    monthlyQuota: z.object({ limit: z.number().int().min(0), used: z.number().int().min(0).optional() }).strict().nullable().optional(),
    clear: z.boolean().optional(),
  })
  .strict();

export interface ErrcodeFaultsInput {
  tenant?: string;
  ipNotWhitelisted?: boolean;
  rejectTokens?: boolean;
  /** Expire every token issued so far. */
  expireTokens?: boolean;
  /** Shorthand for failNext {errcode: <the vendor's rate-limit errcode>, count}. */
  rateLimitNext?: number;
  failNext?: FailNext;
  rateLimit?: RateLimit | null;
  latencyMs?: number;
  /** Set (or with null, remove) the monthly quota; `used` keeps its count unless given. */
  monthlyQuota?: { limit: number; used?: number } | null;
  /** Clear all faults first. */
  clear?: boolean;
}

/**
 * Apply a faults input to a tenant's faults (`expireTokens` is the caller's: tokens live
 * in the simulator). `rateLimitErrcode` is what `rateLimitNext` fails with.
 */
export function applyErrcodeFaults(current: ErrcodeSimFaults, input: ErrcodeFaultsInput, rateLimitErrcode: number): ErrcodeSimFaults {
  const faults = input.clear ? noErrcodeFaults() : current;
  if (input.ipNotWhitelisted !== undefined) faults.ipNotWhitelisted = input.ipNotWhitelisted;
  if (input.rejectTokens !== undefined) faults.rejectTokens = input.rejectTokens;
  if (input.latencyMs !== undefined) faults.latencyMs = input.latencyMs;
  if (input.rateLimit !== undefined) faults.rateLimit = input.rateLimit ?? undefined;
  if (input.rateLimitNext) faults.failNext.push({ errcode: rateLimitErrcode, count: input.rateLimitNext });
  if (input.failNext) faults.failNext.push({ ...input.failNext });
  if (input.monthlyQuota === null) delete faults.monthlyQuota;
  else if (input.monthlyQuota) faults.monthlyQuota = { limit: input.monthlyQuota.limit, used: input.monthlyQuota.used ?? faults.monthlyQuota?.used ?? 0 };
  return faults;
}

/** Take one injected failure for `api`, if any: the first entry whose `matches` says yes. */
export function takeFailNext(faults: ErrcodeSimFaults, matches: (f: FailNext) => boolean): { errcode: number; errmsg?: string } | undefined {
  const i = faults.failNext.findIndex((f) => matches(f) && f.count > 0);
  if (i < 0) return undefined;
  const f = faults.failNext[i] as FailNext;
  f.count--;
  if (f.count <= 0) faults.failNext.splice(i, 1);
  return { errcode: f.errcode, errmsg: f.errmsg };
}
