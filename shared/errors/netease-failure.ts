/**
 * How a failed NetEase call looks to the core: a kind the use cases act on (retry, adopt a
 * duplicate, skip what is already gone) and our AppError code for it. The NetEase adapter's
 * NeteaseApiError (shared/adapters/netease/netease.errors.ts) implements
 * {@link NeteaseFailure}; use cases test failures with {@link isNeteaseError} and never
 * import the adapter.
 */
import { UpstreamError } from './app-error';

/** What went wrong, in terms a caller can act on. */
export type NeteaseErrorKind =
  | 'duplicate' // the unit name or account already exists
  | 'notFound' // the unit or account does not exist
  | 'notEmpty' // a unit still has accounts or child units
  | 'auth' // bad signature, stale time, unknown domain/product, IP not whitelisted
  | 'invalid' // missing or malformed parameter
  | 'throttled' // rate limited: retry later
  | 'server' // NetEase-side failure: retry
  | 'network' // connection failed: retry
  | 'timeout' // no answer in time: retry
  | 'badResponse' // the answer was not the documented JSON
  | 'rejected'; // any other refusal (unknown code)

/** Our AppError code for each kind. */
export const NETEASE_KIND_CODES: Record<NeteaseErrorKind, string> = {
  duplicate: 'NETEASE.DUPLICATE',
  notFound: 'NETEASE.NOT_FOUND',
  notEmpty: 'NETEASE.NOT_EMPTY',
  auth: 'NETEASE.AUTH_FAILED',
  invalid: 'NETEASE.INVALID_REQUEST',
  throttled: 'UPSTREAM.RATE_LIMITED',
  server: 'UPSTREAM.SERVER_ERROR',
  network: 'UPSTREAM.NETWORK',
  timeout: 'UPSTREAM.TIMEOUT',
  badResponse: 'NETEASE.BAD_RESPONSE',
  rejected: 'NETEASE.REJECTED',
};

/** A failed NetEase call (an UpstreamError of vendor `netease`). */
export interface NeteaseFailure extends UpstreamError {
  readonly vendor: 'netease';
  readonly kind: NeteaseErrorKind;
  /** The failure came after a retry of the same request (a create may have succeeded on a lost attempt). */
  readonly afterRetry: boolean;
}

/** True when `err` is a NetEase failure of the given kind (e.g. `isNeteaseError(e, 'duplicate')`). */
export function isNeteaseError(err: unknown, kind?: NeteaseErrorKind): err is NeteaseFailure {
  if (!(err instanceof UpstreamError) || err.vendor !== 'netease') return false;
  const k = (err as Partial<NeteaseFailure>).kind;
  return typeof k === 'string' && (kind === undefined || k === kind);
}
