/**
 * The middy chain every HTTP function uses: the handler stays thin, and errors are
 * mapped to HTTP here and only here.
 *
 * Only AppErrors marked `expose` with a status below 500 (and 501 "not configured")
 * show their code and message; everything else is a generic 500 carrying the request id
 * an operator can find in the logs.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { isAppError } from '../errors/app-error';
import type { Logger } from '../logging/logger';
import { flushMetrics } from '../observability/metrics';
import { assertValidHost } from './host';
import { json, page, type HttpResult } from './http-response';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpFn = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export interface HttpHandlerOptions {
  logger: Logger;
  /** Render errors as an HTML page (browser-facing routes like SSO) instead of JSON. */
  htmlErrors?: boolean;
  /**
   * Show "not configured" (501) details such as secret names and CLI hints to the caller.
   * Only for authenticated operator routes (admin); anonymous callers get a generic text
   * and the details go to the log.
   */
  exposeConfigDetails?: boolean;
}

const NOT_CONFIGURED_PUBLIC = '此功能尚未配置，请联系管理员。This feature is not configured yet; please contact your administrator.';

export function httpHandler(fn: HttpFn, opts: HttpHandlerOptions) {
  return middy<HttpEvent, HttpResult, Error, Context>()
    .use({
      // A malformed Host is the caller's mistake: a clear 400 before anything runs.
      before: async (request) => assertValidHost(request.event.headers),
      onError: async (request) => {
        request.response = errorResponse(request.error, request.event, request.context, opts);
      },
    })
    .handler(fn);
}

export function errorResponse(err: unknown, event: HttpEvent | undefined, context: Context | undefined, opts: HttpHandlerOptions): HttpResult {
  const requestId = event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
  const route = event?.routeKey ?? event?.rawPath;
  if (isAppError(err) && err.expose && (err.status < 500 || err.status === 501)) {
    const hide = err.status === 501 && !opts.exposeConfigDetails;
    opts.logger.warn('request refused', { route, requestId, code: err.code, status: err.status, ...(hide ? { detail: err.message } : {}) });
    const message = hide ? NOT_CONFIGURED_PUBLIC : err.message;
    return opts.htmlErrors
      ? page(err.status, titleFor(err.status), message)
      : json(err.status, { error: err.code, message, requestId });
  }
  opts.logger.error('request failed', { route, requestId, err });
  return opts.htmlErrors
    ? page(500, '服务暂时不可用 / Service unavailable', `请稍后再试。Please try again later. (request ${requestId})`)
    : json(500, { error: 'INTERNAL', message: 'Internal Server Error', requestId });
}

function titleFor(status: number): string {
  if (status === 401 || status === 403) return '无法登录 / Access refused';
  if (status === 404) return '未找到 / Not found';
  if (status === 501) return '尚未配置 / Not configured yet';
  return '请求无效 / Request refused';
}

/**
 * Every function's exported `handler` (HTTP, queue and schedule alike).
 *
 * - Builds the real dependencies on first invocation (cold start), not at import, so that
 *   importing a handler (CDK bundling checks, tests) never reads config or secrets.
 * - Writes the invocation's buffered metrics when it ends, answered or thrown: Lambda may
 *   freeze the process right after, and counts left in the buffer would be written (if at
 *   all) with a later invocation's. Powertools' `logMetrics` middleware does the same for a
 *   single Metrics instance; ours are one per dimension group (observability/metrics.ts).
 */
export function lazyHandler<E, R>(build: () => (event: E, context: Context) => Promise<R>) {
  let built: ((event: E, context: Context) => Promise<R>) | undefined;
  return async (event: E, context: Context): Promise<R> => {
    try {
      built ??= build();
      return await built(event, context);
    } finally {
      flushMetrics();
    }
  };
}
