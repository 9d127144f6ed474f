/**
 * Local stand-ins for API Gateway HTTP API (payload format 2.0) and Lambda Function URLs.
 *
 * Requests are turned into the same events AWS delivers and handler results are turned
 * back into responses with the same rules, so handlers run unchanged. Fidelity points
 * that matter to this project:
 * - `rawQueryString` is the query exactly as received. WeCom signs values containing `+`
 *   sent as `%2B` (wecom.md §1); `queryStringParameters` is decoded like a form
 *   (`+` -> space), so signature checks must parse `rawQueryString` themselves.
 * - Bodies arrive as UTF-8 text only for text/*, application/json, application/xml and
 *   application/javascript; everything else, including a missing Content-Type and
 *   application/x-www-form-urlencoded, is base64 with `isBase64Encoded: true` (behaviour
 *   measured against AWS in ministackorg/ministack PR #766).
 * - The `cookie` header becomes the `cookies` array; duplicate headers and query keys are
 *   joined with commas.
 * - No `statusCode` in the result: 200, content-type application/json, body = the string
 *   itself or the JSON of the object. A malformed result or a thrown error: 500
 *   {"message":"Internal Server Error"} (Function URLs: 502).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FunctionName, RouteSpec } from '../shared/contracts/app-manifest';
import type { Logger } from '../shared/logging/logger';
import { isLoopbackHost, parseHost } from '../shared/http/host';
import { listenError } from './dynamodb';
import { LOCAL_ACCOUNT_ID } from './lambda-invoke';

/** API Gateway HTTP APIs accept 10 MB and Lambda 6 MB; locally we refuse above 1 MiB (nothing here needs more). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A request as read from the socket, before it becomes an event. */
export interface RawRequest {
  method: string;
  /** Path and query exactly as on the request line. */
  url: string;
  /** Lower-cased names, every value kept (node's `headersDistinct`). */
  headers: Record<string, string[]>;
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

export interface RouteMatch {
  route: RouteSpec;
  routeKey: string;
  pathParameters: Record<string, string>;
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** The local principal on IAM-authorized routes. Only loopback callers get it. */
export const LOCAL_IAM_PRINCIPAL = {
  accessKey: 'LOCALACCESSKEY',
  accountId: LOCAL_ACCOUNT_ID,
  callerId: 'LOCAL-DEVELOPER',
  cognitoIdentity: null,
  principalOrgId: null,
  userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local-developer`,
  userId: 'LOCAL-DEVELOPER',
} as const;

// ---------------------------------------------------------------------------------------
// Routing

export function routeKeyOf(route: RouteSpec): string {
  return `${route.method} ${route.path}`;
}

/**
 * Find the route for `method` and `rawPath`, preferring (like API Gateway) exact segments
 * over `{param}` over `{proxy+}`, and a specific method over ANY.
 */
export function matchRoute(routes: readonly RouteSpec[], method: string, rawPath: string): RouteMatch | undefined {
  const segments = rawPath.split('/').slice(1);
  let best: { match: RouteMatch; score: number } | undefined;
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    const params = matchPath(route.path, segments);
    if (!params) continue;
    const tmpl = route.path.split('/').slice(1);
    const literal = tmpl.filter((s) => !s.startsWith('{')).length;
    const greedy = tmpl.some((s) => s.endsWith('+}'));
    const score = (greedy ? 0 : 1000) + literal * 10 + (route.method === 'ANY' ? 0 : 1);
    if (!best || score > best.score) best = { match: { route, routeKey: routeKeyOf(route), pathParameters: params }, score };
  }
  return best?.match;
}

function matchPath(template: string, segments: readonly string[]): Record<string, string> | undefined {
  const tmpl = template.split('/').slice(1);
  const params: Record<string, string> = {};
  for (let i = 0; i < tmpl.length; i++) {
    const t = tmpl[i]!;
    const greedy = /^\{(\w+)\+\}$/.exec(t);
    if (greedy) {
      const rest = segments.slice(i);
      // {proxy+} needs at least one non-empty segment.
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      params[greedy[1]!] = decodeSegment(rest.join('/'));
      return params;
    }
    const seg = segments[i];
    if (seg === undefined || seg === '') return undefined;
    const param = /^\{(\w+)\}$/.exec(t);
    if (param) params[param[1]!] = decodeSegment(seg);
    else if (t !== seg) return undefined;
  }
  return segments.length === tmpl.length ? params : undefined;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------------------------------------------------------------------------------------
// Events

const TEXT_TYPES = /^(text\/[^;]+|application\/(json|xml|javascript))\s*(;|$)/i;

export function isTextContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && TEXT_TYPES.test(contentType.trim());
}

export interface EventOptions {
  /** Route match (HTTP API); undefined for a Function URL ($default). */
  match?: RouteMatch;
  /** e.g. `127.0.0.1:3000`, used as domainName when the request has no Host. */
  domainName: string;
  apiId: string;
  now?: Date;
  requestId?: string;
  /** Put the local IAM principal into requestContext.authorizer.iam. */
  iam?: boolean;
}

/** The payload-2.0 event API Gateway (or a Function URL) would send for this request. */
export function buildHttpApiEvent(req: RawRequest, opts: EventOptions): APIGatewayProxyEventV2 {
  const now = opts.now ?? new Date();
  const q = req.url.indexOf('?');
  const rawPath = q === -1 ? req.url : req.url.slice(0, q);
  const rawQueryString = q === -1 ? '' : req.url.slice(q + 1).replace(/#.*$/, '');

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, values] of Object.entries(req.headers)) {
    if (name === 'cookie') {
      for (const v of values) cookies.push(...v.split(';').map((c) => c.trim()).filter(Boolean));
    } else {
      headers[name] = values.join(',');
    }
  }
  const host = headers.host ?? opts.domainName;
  headers.host = host;
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.sourceIp}` : req.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= host.includes(':') ? host.slice(host.lastIndexOf(':') + 1) : '80';

  const routeKey = opts.match?.routeKey ?? '$default';
  const requestId = opts.requestId ?? randomUUID();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: opts.apiId,
      domainName: host.replace(/:\d+$/, ''),
      domainPrefix: host.replace(/:\d+$/, '').split('.')[0] ?? opts.apiId,
      http: {
        method: req.method,
        path: rawPath,
        protocol: req.protocol,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: formatClfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query) event.queryStringParameters = query;
  if (opts.match && Object.keys(opts.match.pathParameters).length > 0) event.pathParameters = opts.match.pathParameters;
  if (opts.iam) {
    // The IAM authorizer context shape of payload 2.0; the types package does not model it on this event type.
    (event.requestContext as unknown as Record<string, unknown>).authorizer = { iam: { ...LOCAL_IAM_PRINCIPAL } };
  }
  if (req.body.length > 0) {
    if (isTextContentType(headers['content-type'])) {
      event.body = req.body.toString('utf8');
    } else {
      event.body = req.body.toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

/** Decoded like a form (`+` is a space), duplicates joined by commas; undefined when empty. */
export function parseQuery(raw: string): Record<string, string> | undefined {
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[k] = k in out ? `${out[k]},${v}` : v;
  return Object.keys(out).length > 0 ? out : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the requestContext.time format. */
export function formatClfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

// ---------------------------------------------------------------------------------------
// Results

export class MalformedResultError extends Error {}

/** Map a handler's return value to a response, as API Gateway (payload 2.0) does. */
export function toHttpResult(result: unknown): HttpResult {
  if (result === undefined || result === null) {
    // Lambda serializes "no value" as null; API Gateway answers 200 with an empty body.
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.alloc(0) };
  }
  if (typeof result === 'string') {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(result, 'utf8') };
  }
  if (typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(JSON.stringify(result), 'utf8') };
  }
  const r = result as { statusCode: unknown; headers?: unknown; multiValueHeaders?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  const status = typeof r.statusCode === 'string' && /^\d+$/.test(r.statusCode) ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new MalformedResultError(`statusCode ${JSON.stringify(r.statusCode)} is not an HTTP status`);
  }
  const headers: Record<string, string> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object') throw new MalformedResultError('headers must be an object');
    for (const [k, v] of Object.entries(r.headers)) {
      if (v === undefined || v === null) continue;
      headers[k.toLowerCase()] = String(v);
    }
  }
  if (r.multiValueHeaders && typeof r.multiValueHeaders === 'object') {
    for (const [k, v] of Object.entries(r.multiValueHeaders)) if (Array.isArray(v)) headers[k.toLowerCase()] = v.map(String).join(',');
  }
  let cookies: string[] = [];
  if (r.cookies !== undefined && r.cookies !== null) {
    if (!Array.isArray(r.cookies)) throw new MalformedResultError('cookies must be an array of strings');
    cookies = r.cookies.map(String);
  }
  let body = Buffer.alloc(0);
  if (r.body !== undefined && r.body !== null) {
    if (typeof r.body !== 'string') throw new MalformedResultError('body must be a string');
    body = r.isBase64Encoded === true ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8');
  }
  return { statusCode: status, headers, cookies, body };
}

export function jsonResult(statusCode: number, value: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(JSON.stringify(value), 'utf8') };
}

// ---------------------------------------------------------------------------------------
// Servers

/** A loopback IP literal (127.0.0.0/8, ::1, ::ffff:127.x.y.z) or `localhost`; never a name like `127.0.0.1.evil.example`. */
export function isLoopback(ip: string): boolean {
  return isLoopbackHost(ip);
}

/**
 * Local stand-in for IAM: a caller on this machine that is not a web page. A browser adds
 * `Origin` to cross-site requests (and `Sec-Fetch-Site`), so a page open in the developer's
 * browser cannot drive the admin API or the triggers (CSRF); the CLI and curl send neither.
 * The Host must name the loopback too (DNS rebinding).
 */
export function isLocalOperator(req: Pick<RawRequest, 'sourceIp' | 'headers'>): boolean {
  if (!isLoopback(req.sourceIp)) return false;
  if (req.headers.origin?.length || req.headers['sec-fetch-site']?.some((v) => v !== 'none')) return false;
  const hosts = req.headers.host ?? [];
  if (hosts.length === 0) return true;
  // The Host is parsed, then its name must be a loopback IP literal or `localhost`.
  const parsed = hosts.length === 1 ? parseHost(hosts[0]!) : undefined;
  return parsed !== undefined && isLoopbackHost(parsed.hostname);
}

/** Invokes function `fn` with `event` and returns the handler's result (throws on failure). */
export type Invoker = (fn: FunctionName, event: APIGatewayProxyEventV2) => Promise<unknown>;

/** A local endpoint that is not an API route (health, triggers); returns undefined to fall through. */
export type LocalEndpoint = (req: RawRequest) => Promise<HttpResult | undefined>;

export interface GatewayOptions {
  routes: readonly RouteSpec[];
  invoke: Invoker;
  logger: Logger;
  /** Tried before the routes. */
  localEndpoints?: readonly LocalEndpoint[];
  apiId?: string;
}

/** The request handler of the local HTTP API (returns the response to write). */
export function createGatewayHandler(opts: GatewayOptions): (req: RawRequest, domainName: string) => Promise<HttpResult> {
  return async (req, domainName) => {
    for (const endpoint of opts.localEndpoints ?? []) {
      const res = await endpoint(req);
      if (res) return res;
    }
    const path = req.url.split('?')[0] ?? '/';
    const match = matchRoute(opts.routes, req.method, path);
    if (!match) return jsonResult(404, { message: 'Not Found' });
    if (match.route.auth === 'iam' && !isLocalOperator(req)) {
      // The local stack has no SigV4 check: the IAM route is only for tools on this machine.
      opts.logger.warn('refused an IAM route: not a local operator (remote address, browser origin or foreign Host)', { routeKey: match.routeKey, sourceIp: req.sourceIp });
      return jsonResult(403, { message: 'Forbidden' });
    }
    const event = buildHttpApiEvent(req, { match, domainName, apiId: opts.apiId ?? 'local', iam: match.route.auth === 'iam' });
    try {
      return toHttpResult(await opts.invoke(match.route.fn, event));
    } catch (err) {
      opts.logger.error('handler failed', { function: match.route.fn, routeKey: match.routeKey, requestId: event.requestContext.requestId, error: err });
      return jsonResult(500, { message: 'Internal Server Error' });
    }
  };
}

/** The request handler of a Lambda Function URL (auth NONE): every path goes to `fn`. */
export function createFunctionUrlHandler(opts: { fn: FunctionName; invoke: Invoker; logger: Logger; urlId?: string }): (req: RawRequest, domainName: string) => Promise<HttpResult> {
  return async (req, domainName) => {
    const event = buildHttpApiEvent(req, { domainName, apiId: opts.urlId ?? 'local-function-url' });
    try {
      return toHttpResult(await opts.invoke(opts.fn, event));
    } catch (err) {
      opts.logger.error('handler failed', { function: opts.fn, routeKey: '$default', requestId: event.requestContext.requestId, error: err });
      // Function URLs report a function error as 502 (the error only shows in the function's logs).
      return jsonResult(502, { message: 'Internal Server Error' });
    }
  };
}

export interface RunningHttpServer {
  url: string;
  port: number;
  /** Stop accepting, wait for requests in progress, close. */
  stop(): Promise<void>;
}

/** Serve `handle` on host:port, reading bodies up to `maxBodyBytes` (413 above). */
export async function startHttpServer(options: {
  host: string;
  port: number;
  what: string;
  envVar: string;
  maxBodyBytes?: number;
  logger: Logger;
  handle: (req: RawRequest, domainName: string) => Promise<HttpResult>;
}): Promise<RunningHttpServer> {
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    const p = serve(req, res).catch((err) => {
      options.logger.error('local server error', { server: options.what, error: err });
      if (!res.headersSent) writeResult(res, jsonResult(500, { message: 'Internal Server Error' }));
      else res.destroy();
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, max);
    if (body === 'too-large') {
      // API Gateway's answer to an oversized payload.
      writeResult(res, jsonResult(413, { message: 'Request Entity Too Large' }));
      return;
    }
    const raw: RawRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      url: req.url ?? '/',
      headers: Object.fromEntries(Object.entries(req.headersDistinct).map(([k, v]) => [k, v ?? []])),
      body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      protocol: `HTTP/${req.httpVersion}`,
    };
    const local = req.socket.localAddress && req.socket.localPort ? `${req.socket.localAddress}:${req.socket.localPort}` : `${options.host}:${port}`;
    writeResult(res, await options.handle(raw, local));
  }

  server.listen(options.port, options.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch (err) {
    throw listenError(options.what, options.host, options.port, options.envVar, err);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...inFlight]);
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * The body, or 'too-large' once it exceeds `max`. An oversized body is still drained (so
 * the client reads our 413 instead of a reset connection) unless it goes on past 16x the
 * limit, when the connection is dropped.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else if (size > max * 16) req.destroy();
    });
    req.on('end', () => resolve(size > max ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

function writeResult(res: ServerResponse, r: HttpResult): void {
  res.statusCode = r.statusCode;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  if (r.cookies.length > 0) res.setHeader('set-cookie', r.cookies);
  res.setHeader('content-length', r.body.length);
  res.end(r.body);
}
