/**
 * Signed OA links: how an OA (Landray EKP, or any portal) proves who is clicking.
 *
 * The OA appends to `https://<bridge>/sso/<tenant>`:
 *   user   the OA's user id (the source person id the sync maps, e.g. EKP fdId)
 *   ts     the time, in milliseconds since the epoch
 *   nonce  8-64 characters of [A-Za-z0-9_-], new for every link
 *   sig    lowercase hex HMAC-SHA256(linkSecret, canonical)
 * and optionally `mid` (open one mail), `module` (open a folder or module) and `lang` (0/1).
 *
 * canonical = every parameter except `sig`, PLUS `tenant=<tenant id>`, sorted by key in
 * ascending ASCII order, joined as `k=v` with `&`, using the raw (not URL-encoded) values.
 * This mirrors NetEase's own signing rule, which OA integrators already know. Example:
 *   nonce=n0nce123&tenant=acme&ts=1700000000000&user=u001
 *
 * A link is accepted once (the nonce is claimed in DynamoDB with a TTL) and only inside
 * the tenant's window (default 5 minutes, both directions for clock skew).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError, ValidationError } from '../../errors/app-error';
import { entryTargetOf } from './entry-target';

export const OA_LINK_PARAMS = ['user', 'ts', 'nonce', 'sig', 'mid', 'module', 'lang'] as const;
const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const USER = /^[^\s&=]{1,128}$/;
// Milliseconds since the epoch in canonical form only: digits, no leading zero, no sign,
// exponent, fraction or whitespace, 10-16 digits (2001 onwards) and exactly what
// String(Number(ts)) gives back, so one instant has one spelling.
const TS = /^[1-9]\d{9,15}$/;

/** True when `ts` is the canonical decimal spelling of a millisecond timestamp. */
export function isCanonicalTs(ts: string): boolean {
  return TS.test(ts) && Number.isSafeInteger(Number(ts)) && String(Number(ts)) === ts;
}

/**
 * Checks a link's `mid` / `module` and returns them. Mail links use entryTargetOf (what
 * NetEase can open); the console's OA link passes its own check (module `console`, no mail).
 */
export type OaLinkTargetCheck = (q: { mid?: string | undefined; module?: string | undefined }) => { mid?: string; module?: string };

export interface OaLinkParams {
  user: string;
  ts: string;
  nonce: string;
  mid?: string;
  module?: string;
  lang?: string;
}

export function oaCanonicalString(tenantId: string, params: Record<string, string | undefined>): string {
  const entries = Object.entries({ ...params, tenant: tenantId }).filter(
    (e): e is [string, string] => e[0] !== 'sig' && e[1] !== undefined && e[1] !== '',
  );
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${v}`).join('&');
}

export function oaSignature(secret: string, tenantId: string, params: Record<string, string | undefined>): string {
  return createHmac('sha256', secret).update(oaCanonicalString(tenantId, params), 'utf8').digest('hex');
}

/** Builds a signed link, as an OA would (used by `qiye-bridge sso-link` and tests). */
export function buildOaLink(opts: {
  baseUrl: string;
  tenantId: string;
  secret: string;
  user: string;
  now?: number;
  nonce?: string;
  mid?: string;
  module?: string;
  lang?: string;
  /** Path the link opens (default `/sso/<tenant>`); the unread widget signs links to itself. */
  path?: string;
  /** How `mid` / `module` are checked (default: a NetEase entry target). */
  targetCheck?: OaLinkTargetCheck;
}): string {
  // The same checks the bridge applies on arrival: a link we print must be one we accept.
  const target = (opts.targetCheck ?? entryTargetOf)({ mid: opts.mid, module: opts.module });
  const params: Record<string, string | undefined> = {
    user: opts.user,
    ts: String(opts.now ?? Date.now()),
    nonce: opts.nonce ?? randomBytes(12).toString('base64url'),
    mid: target.mid,
    module: target.module,
    lang: opts.lang,
  };
  const sig = oaSignature(opts.secret, opts.tenantId, params);
  const url = new URL(`${opts.baseUrl.replace(/\/+$/, '')}${opts.path ?? `/sso/${encodeURIComponent(opts.tenantId)}`}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  url.searchParams.set('sig', sig);
  return url.toString();
}

/**
 * Checks a link's shape, window and signature (constant time). The nonce is NOT claimed
 * here: the caller claims it after this succeeds, so a forged link can't burn a nonce.
 */
export function verifyOaLink(opts: {
  tenantId: string;
  secret: string;
  query: Record<string, string | undefined>;
  now: number;
  windowSeconds: number;
  /** How `mid` / `module` are checked (default: a NetEase entry target). */
  targetCheck?: OaLinkTargetCheck;
}): OaLinkParams {
  const q = opts.query;
  const missing = ['user', 'ts', 'nonce', 'sig'].filter((k) => !q[k]);
  if (missing.length) throw new ValidationError(`The sign-in link is incomplete (missing ${missing.join(', ')}).`, { code: 'SSO.LINK_INCOMPLETE' });
  const unknown = Object.keys(q).filter((k) => !(OA_LINK_PARAMS as readonly string[]).includes(k));
  if (unknown.length) throw new ValidationError(`The sign-in link has unexpected parameters (${unknown.join(', ')}).`, { code: 'SSO.LINK_MALFORMED' });
  if (!USER.test(q.user!) || !NONCE.test(q.nonce!) || !/^[0-9a-f]{64}$/.test(q.sig!)) {
    throw new ValidationError('The sign-in link is malformed.', { code: 'SSO.LINK_MALFORMED' });
  }
  if (!isCanonicalTs(q.ts!)) throw new ValidationError('ts must be the time in milliseconds since the epoch, as plain digits (e.g. 1700000000000).', { code: 'SSO.LINK_MALFORMED' });
  const target = (opts.targetCheck ?? entryTargetOf)(q);
  if (q.lang !== undefined && q.lang !== '0' && q.lang !== '1') throw new ValidationError('lang must be 0 or 1.', { code: 'SSO.LINK_MALFORMED' });
  const skew = Math.abs(opts.now - Number(q.ts));
  if (skew > opts.windowSeconds * 1000) {
    throw new AuthError('SSO.LINK_EXPIRED', 'The sign-in link has expired. Go back to the portal and click the mail link again.');
  }
  const expected = Buffer.from(oaSignature(opts.secret, opts.tenantId, q), 'hex');
  const given = Buffer.from(q.sig!, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new AuthError('SSO.BAD_SIGNATURE', 'The sign-in link is not valid.');
  }
  return { user: q.user!, ts: q.ts!, nonce: q.nonce!, ...target, lang: q.lang };
}
