/**
 * NetEase API failures, classified so callers can act: retry (throttling, server and
 * network trouble), adopt (duplicate), skip (not found), or stop and tell an operator
 * (bad signature, unknown domain, IP not whitelisted).
 *
 * OPEN QUESTION (reference netease-qiye-api.md, Open questions §1): the legacy API's
 * `error_code` values for a bad signature, an expired `time`, a non-whitelisted IP, an
 * existing account, a duplicate unit or a non-empty unit are not documented anywhere we
 * found. The table below therefore holds:
 *  - the markers the open platform is known to use (`UNIT.EXIST`, `MAILACCOUNT.NAMEEXIST`,
 *    `ACCOUNT.NOTEXIST`: N2, N4) in case the legacy API shares them,
 *  - the open platform's numeric codes (N4) for the same reason,
 *  - readable codes our simulator answers with (local/simulators/netease).
 * Codes not in the table are classified by {@link classifyNeteaseErrorCode}'s patterns,
 * then default to a non-retryable rejection. Extend the table when production shows
 * real codes (`registerNeteaseErrorCode`), and keep the simulator in step.
 */
import { UpstreamError } from '../../errors/app-error';
import { NETEASE_KIND_CODES, type NeteaseErrorKind, type NeteaseFailure } from '../../errors/netease-failure';
import type { RetryOptions } from '../http/retry';

export type { NeteaseErrorKind };

export interface NeteaseErrorClass {
  kind: NeteaseErrorKind;
  retryable: boolean;
}

const c = (kind: NeteaseErrorKind, retryable = false): NeteaseErrorClass => ({ kind, retryable });

/**
 * Known `error_code` values (case-insensitive keys). See the module comment: most are our
 * simulator's choice because the legacy codes are an open question.
 */
const ERROR_TABLE = new Map<string, NeteaseErrorClass>(
  Object.entries({
    // Open-platform markers (N2, N4), possibly shared by the legacy API.
    'UNIT.EXIST': c('duplicate'),
    'MAILACCOUNT.NAMEEXIST': c('duplicate'),
    'ACCOUNT.NOTEXIST': c('notFound'),
    // Simulator codes (readable by design).
    'UNIT.NOTEXIST': c('notFound'),
    'UNIT.NOT_EMPTY': c('notEmpty'),
    'UNIT.DEFAULT_READONLY': c('invalid'),
    'ACCOUNT.EXIST': c('duplicate'),
    'ACCOUNT.STATUS_INVALID': c('invalid'),
    // Mail features (simulator codes; NetEase's are unknown: shared/adapters/netease/netease-maillist.schemas.ts).
    'ALIAS.EXIST': c('duplicate'),
    'ALIAS.NOTEXIST': c('notFound'),
    'MAILLIST.EXIST': c('duplicate'),
    'MAILLIST.NOTEXIST': c('notFound'),
    'SIGN.INVALID': c('auth'),
    'SIGN.KEY_NOT_REGISTERED': c('auth'),
    // A stale `time`: we sign every attempt afresh, so a repeat only fails again until
    // the clock is fixed. Not retryable.
    'TIME.EXPIRED': c('auth'),
    'DOMAIN.NOTEXIST': c('auth'),
    'PRODUCT.INVALID': c('auth'),
    'IP.DENY': c('auth'),
    'PARAM.MISSING': c('invalid'),
    'PARAM.INVALID': c('invalid'),
    'API.NOTEXIST': c('invalid'),
    'REQUEST.RATE_LIMITED': c('throttled', true),
    'SYSTEM.BUSY': c('throttled', true),
    'SYSTEM.ERROR': c('server', true),
    // Open-platform numeric codes (N4), in case the legacy API uses them too.
    '-1': c('server', true),
    '-2': c('server', true),
    '-4': c('notFound'),
    '-100': c('auth'),
    '-101': c('auth'),
    '-200': c('auth'),
    '-201': c('auth'),
    '-202': c('auth'),
    '-401': c('invalid'),
    '-421': c('duplicate'),
    '-422': c('throttled', true),
    '-423': c('throttled', true),
  }).map(([k, v]) => [k.toUpperCase(), v]),
);

/** Add or override a code's classification (e.g. when production reveals a real code). */
export function registerNeteaseErrorCode(code: string, cls: NeteaseErrorClass): void {
  ERROR_TABLE.set(code.toUpperCase(), cls);
}

/**
 * Classify a NetEase `error_code`: the table first, then name patterns (throttling and
 * system trouble are retryable), else a non-retryable rejection.
 */
export function classifyNeteaseErrorCode(code: string | undefined): NeteaseErrorClass {
  if (!code) return c('rejected');
  const known = ERROR_TABLE.get(code.toUpperCase());
  if (known) return known;
  if (/busy|limit|frequen|throttl|too.?many|overload/i.test(code)) return c('throttled', true);
  if (/system|internal|timeout|unavailable/i.test(code)) return c('server', true);
  if (/not.?exist|not.?found|no.?such/i.test(code)) return c('notFound');
  if (/exist|duplicate|repeat/i.test(code)) return c('duplicate');
  if (/sign|auth|deny|expire|(^|[._-])ip([._-]|$)/i.test(code)) return c('auth');
  if (/param|invalid|illegal/i.test(code)) return c('invalid');
  return c('rejected');
}

export interface NeteaseApiErrorInit {
  /** `module/action`, e.g. `account/createAccount`. Never parameters. */
  operation: string;
  kind: NeteaseErrorKind;
  retryable: boolean;
  /** NetEase's own `error_code` (or unread `msg`), when it sent one. */
  errorCode?: string;
  httpStatus?: number;
  /** The failure came after a retry of the same request (a create may have succeeded on a lost attempt). */
  afterRetry?: boolean;
  /** Server's Retry-After hint. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A NetEase call failed. `kind` says what to do; `errorCode` keeps NetEase's code.
 * Messages name the operation and codes only: never parameters, passwords or signatures.
 */
export class NeteaseApiError extends UpstreamError implements NeteaseFailure {
  declare readonly vendor: 'netease';
  readonly kind: NeteaseErrorKind;
  readonly operation: string;
  readonly errorCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly afterRetry: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(init: NeteaseApiErrorInit, message?: string) {
    const code = NETEASE_KIND_CODES[init.kind];
    const what = init.errorCode ? `error_code ${safeCode(init.errorCode)}` : init.httpStatus ? `HTTP ${init.httpStatus}` : init.kind;
    super('netease', code, message ?? `netease ${init.operation} failed: ${what} (${init.kind}${init.retryable ? ', retryable' : ''})`, {
      retryable: init.retryable,
      cause: init.cause,
      details: { operation: init.operation, kind: init.kind, errorCode: init.errorCode, httpStatus: init.httpStatus },
    });
    this.kind = init.kind;
    this.operation = init.operation;
    this.errorCode = init.errorCode;
    this.httpStatus = init.httpStatus;
    this.afterRetry = init.afterRetry ?? false;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** From a NetEase `error_code`, classified by the table. */
  static fromCode(operation: string, errorCode: string | undefined, extra: Partial<NeteaseApiErrorInit> = {}): NeteaseApiError {
    const cls = classifyNeteaseErrorCode(errorCode);
    return new NeteaseApiError({ operation, errorCode: errorCode ? safeCode(errorCode) : undefined, ...cls, ...extra });
  }
}

// error_code comes from the wire: keep it short and printable in messages.
function safeCode(code: string): string {
  return code.replace(/[^\x20-\x7e\u4e00-\u9fff]/g, '?').slice(0, 80);
}

/**
 * The backoff both NetEase clients use (qiyeservice and open platform): jittered exponential,
 * but a server's Retry-After wins (carried on NeteaseApiError and its open-platform subclass).
 */
export function neteaseRetryOptions(
  maxRetries: number,
  tuning: { retryBaseDelayMs?: number; retryMaxDelayMs?: number; sleep?: (ms: number) => Promise<void>; random?: () => number },
  onRetry: RetryOptions['onRetry'],
): RetryOptions {
  return {
    maxRetries,
    baseDelayMs: tuning.retryBaseDelayMs,
    maxDelayMs: tuning.retryMaxDelayMs,
    sleep: tuning.sleep,
    random: tuning.random,
    retryAfterMs: (err) => (err instanceof NeteaseApiError ? err.retryAfterMs : undefined),
    onRetry,
  };
}
