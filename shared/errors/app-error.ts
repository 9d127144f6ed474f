/**
 * One base class for every error the bridge raises on purpose.
 *
 * - `code` is stable and machine-readable (`UPSTREAM.RATE_LIMITED`, `CALLBACK.BAD_SIGNATURE`).
 * - `retryable` tells workers whether to fail the SQS record (retry, then DLQ) or to
 *   record, count and acknowledge it.
 * - `status` is the HTTP status the HTTP error middleware may answer with. Only errors
 *   with `expose` true and a status below 500 show their message to callers; everything
 *   else becomes a generic 500 (see shared/http/http-errors.middleware.ts).
 *
 * Messages must never contain secrets, tokens, keys, passwords or decrypted callback bodies.
 */
export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  status?: number;
  expose?: boolean;
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.status = options.status ?? 500;
    this.expose = options.expose ?? this.status < 500;
    this.details = options.details;
  }
}

/** Invalid configuration (tenant file, environment). Lists every problem found. */
export class ConfigError extends AppError {
  readonly problems: readonly ConfigProblem[];
  constructor(message: string, problems: readonly ConfigProblem[], options: AppErrorOptions = {}) {
    super('CONFIG.INVALID', `${message}\n${formatProblems(problems)}`, { status: 500, expose: false, ...options });
    this.problems = problems;
  }
}

export interface ConfigProblem {
  /** The file (or source such as `env`) the problem was found in. */
  file: string;
  /** Dotted path inside it, e.g. `tenants[0].netease.domain`. */
  path: string;
  reason: string;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.file}: ${p.path || '(root)'}: ${p.reason}`).join('\n');
}

/** Bad input from a caller (malformed request, unknown tenant). Shown to the caller. */
export class ValidationError extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'REQUEST.INVALID', message, { status: 400, ...options });
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'NOT_FOUND', message, { status: 404, ...options });
  }
}

/** Authentication or signature failure. The message is deliberately terse. */
export class AuthError extends AppError {
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 401, ...options });
  }
}

/**
 * A capability a later release adds, or one this tenant has not configured.
 * Answers 501 so nobody mistakes it for success.
 */
export class NotConfiguredError extends AppError {
  constructor(message: string, options: AppErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'NOT_CONFIGURED', message, { status: 501, expose: true, ...options });
  }
}

/** An upstream (NetEase, DingTalk, WeCom, EKP, AWS) failed. `retryable` says whether to try again. */
export class UpstreamError extends AppError {
  readonly vendor: string;
  constructor(vendor: string, code: string, message: string, options: AppErrorOptions = {}) {
    super(code, message, { status: 502, expose: false, ...options });
    this.vendor = vendor;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Retryable unless we know better: unknown errors (network resets, SDK throttles) are retried. */
export function isRetryable(err: unknown): boolean {
  return isAppError(err) ? err.retryable : true;
}
