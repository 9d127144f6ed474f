/**
 * NotifySendError: what a failed notice send means for the notify worker. Channel adapters
 * (shared/adapters/<vendor>/<vendor>.notice-sender.ts) throw it, sorting their vendor's errors with
 * {@link toSendError}; the use case (shared/use-cases/notify/check-new-mail.ts) acts on its
 * `scope` without knowing the vendor.
 */
import { AppError, isAppError, isRetryable, NotConfiguredError, ValidationError } from './app-error';

/**
 * What a failed send means for the worker:
 * - `retry`: the vendor is busy or unreachable: fail the queue record, keep the watermark;
 * - `person`: this person cannot get messages (not in the vendor org, outside the app's
 *   visible range): log, count, treat their mails as handled;
 * - `tenant`: nobody of this tenant can (credentials, IP whitelist, permission, quota,
 *   missing secret): stop the batch, keep watermarks, log for an admin.
 */
export type SendFailureScope = 'retry' | 'person' | 'tenant';

export class NotifySendError extends AppError {
  readonly scope: SendFailureScope;
  constructor(scope: SendFailureScope, code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: scope === 'retry', status: 502, expose: false, cause });
    this.scope = scope;
  }
}

/** A vendor's own sorting of its errors: a scope, or undefined when `err` is not that vendor's. */
export type SendScopeOf = (err: unknown) => SendFailureScope | undefined;

/** How the error kinds DingTalk and WeCom share sort; each channel adapter adds its own kinds. */
export const SHARED_SEND_SCOPES = {
  throttled: 'retry',
  server: 'retry',
  notFound: 'person',
  invalid: 'person',
  rejected: 'person',
  invalidCode: 'person',
  tokenInvalid: 'tenant',
  credentials: 'tenant',
  ipNotWhitelisted: 'tenant',
  permission: 'tenant',
  badResponse: 'tenant',
} as const satisfies Record<string, SendFailureScope>;

/** A {@link SendScopeOf} for one vendor's error class: a retryable error retries, the rest sort by kind. */
export function sendScopeByKind<E extends { retryable: boolean; kind: string }>(isVendorError: (err: unknown) => err is E, scopes: Record<E['kind'], SendFailureScope>): SendScopeOf {
  return (err) => (isVendorError(err) ? (err.retryable ? 'retry' : scopes[err.kind as E['kind']]) : undefined);
}

/**
 * Sort any send failure into retry / person / tenant, keeping the code and message: first by
 * the vendors' own sorting (`vendorScopes`, the channel adapters'), then generically.
 */
export function toSendError(err: unknown, ...vendorScopes: SendScopeOf[]): NotifySendError {
  if (err instanceof NotifySendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  for (const scopeOf of vendorScopes) {
    const scope = scopeOf(err);
    if (scope) return new NotifySendError(scope, isAppError(err) ? err.code : 'NOTIFY.SEND_FAILED', message, err);
  }
  // A missing secret or app section: nobody of the tenant can be notified until an admin acts.
  if (err instanceof NotConfiguredError) return new NotifySendError('tenant', err.code, message, err);
  // A message we could not build or the client refused before sending (bad userid): this person only.
  if (err instanceof ValidationError) return new NotifySendError('person', err.code, message, err);
  if (isAppError(err)) return new NotifySendError(err.retryable ? 'retry' : 'person', err.code, message, err);
  // Unknown errors (network resets and the like) are retried.
  return new NotifySendError(isRetryable(err) ? 'retry' : 'person', 'NOTIFY.SEND_FAILED', message, err);
}

/** Runs one send step; any failure becomes the NotifySendError toSendError sorts it into. */
export async function sendStep<T>(step: () => T | Promise<T>, ...vendorScopes: SendScopeOf[]): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw toSendError(err, ...vendorScopes);
  }
}
