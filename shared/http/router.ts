/**
 * A small path router for functions that serve several routes behind one API Gateway
 * route (the admin API's `/admin/{proxy+}`). Patterns use `:name` segments.
 *
 * Hand-written, not @middy/http-router (6.4.5, the major of our @middy/core; not installed): that
 * one answers a known path with the wrong method as 404 (ours: 405 REQUEST.METHOD_NOT_ALLOWED) and
 * throws http-errors, which httpHandler (AppError only) would turn into a 500 unless its
 * `notFoundResponse` threw our NotFoundError. With that option it would fit, less the 405: a
 * possible swap, left for its own change.
 */
import { AppError, NotFoundError } from '../errors/app-error';
import type { HttpEvent } from './http-handler';
import type { HttpResult } from './http-response';

export type RouteFn = (event: HttpEvent, params: Record<string, string>) => Promise<HttpResult>;

interface Route {
  method: string;
  parts: string[];
  fn: RouteFn;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pattern: string, fn: RouteFn): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), fn });
    return this;
  }

  async handle(event: HttpEvent): Promise<HttpResult> {
    const method = event.requestContext.http.method.toUpperCase();
    const segs = event.rawPath.split('/').filter(Boolean).map(decodeURIComponent);
    let pathMatched = false;
    for (const r of this.routes) {
      const params = match(r.parts, segs);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method) return r.fn(event, params);
    }
    if (pathMatched) throw new AppError('REQUEST.METHOD_NOT_ALLOWED', `${method} is not allowed here.`, { status: 405, expose: true });
    throw new NotFoundError(`No admin route for ${method} ${event.rawPath}.`, { code: 'ROUTE.NOT_FOUND' });
  }

  /** Patterns served, for the index page. */
  list(): string[] {
    return this.routes.map((r) => `${r.method} /${r.parts.join('/')}`);
  }
}

function match(parts: string[], segs: string[]): Record<string, string> | undefined {
  if (parts.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segs[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}

/** The JSON body of a request (base64-aware); {} when empty. */
export function jsonBody(event: HttpEvent): Record<string, unknown> {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new AppError('REQUEST.BAD_JSON', 'The request body must be a JSON object.', { status: 400, expose: true });
}
