import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../shared/contracts/app-manifest';
import { createMemoryLogger } from '../../shared/logging/logger';
import {
  buildHttpApiEvent,
  createGatewayHandler,
  formatClfTime,
  isTextContentType,
  matchRoute,
  MalformedResultError,
  toHttpResult,
  type RawRequest,
} from '../../local/http-gateway';

function req(partial: Partial<RawRequest> & { url: string }): RawRequest {
  return { method: 'GET', headers: { host: ['127.0.0.1:3000'] }, body: Buffer.alloc(0), sourceIp: '127.0.0.1', protocol: 'HTTP/1.1', ...partial };
}

describe('matchRoute', () => {
  it('matches path parameters and names the route key as API Gateway does', () => {
    const m = matchRoute(ROUTES, 'GET', '/unread/acme/widget');
    expect(m?.routeKey).toBe('GET /unread/{tenant}/widget');
    expect(m?.pathParameters).toEqual({ tenant: 'acme' });
    expect(matchRoute(ROUTES, 'GET', '/unread/acme')?.routeKey).toBe('GET /unread/{tenant}');
  });

  it('sends every method and any depth to a greedy ANY route, decoding the proxy value', () => {
    const m = matchRoute(ROUTES, 'DELETE', '/admin/tenants/acme/keys%2Fold');
    expect(m?.routeKey).toBe('ANY /admin/{proxy+}');
    expect(m?.pathParameters).toEqual({ proxy: 'tenants/acme/keys/old' });
  });

  it('finds no route for a wrong method, a missing segment or a bare greedy prefix', () => {
    expect(matchRoute(ROUTES, 'POST', '/sso/acme')).toBeUndefined();
    expect(matchRoute(ROUTES, 'GET', '/sso/')).toBeUndefined();
    expect(matchRoute(ROUTES, 'GET', '/sso/acme/extra')).toBeUndefined();
    expect(matchRoute(ROUTES, 'GET', '/admin')).toBeUndefined();
    expect(matchRoute(ROUTES, 'GET', '/admin/')).toBeUndefined();
  });

  it('prefers literal segments over parameters over greedy paths', () => {
    const routes = [
      { method: 'ANY', path: '/a/{proxy+}', fn: 'admin', auth: 'none' },
      { method: 'GET', path: '/a/{x}', fn: 'sso', auth: 'none' },
      { method: 'GET', path: '/a/fixed', fn: 'unread', auth: 'none' },
    ] as const;
    expect(matchRoute(routes, 'GET', '/a/fixed')?.route.fn).toBe('unread');
    expect(matchRoute(routes, 'GET', '/a/other')?.route.fn).toBe('sso');
    expect(matchRoute(routes, 'GET', '/a/b/c')?.route.fn).toBe('admin');
  });
});

describe('buildHttpApiEvent', () => {
  const now = new Date(Date.UTC(2026, 2, 12, 19, 3, 58, 390));

  it('keeps the raw query byte for byte and decodes the parameters like a form', () => {
    const match = matchRoute(ROUTES, 'GET', '/callbacks/wecom/acme')!;
    const e = buildHttpApiEvent(req({ url: '/callbacks/wecom/acme?echostr=P9n+AzC%2B%3D%3D&nonce=1&nonce=2' }), { match, domainName: 'x', apiId: 'local', now });
    expect(e.rawQueryString).toBe('echostr=P9n+AzC%2B%3D%3D&nonce=1&nonce=2');
    expect(e.queryStringParameters).toEqual({ echostr: 'P9n AzC+==', nonce: '1,2' });
    expect(e.rawPath).toBe('/callbacks/wecom/acme');
    expect(e.routeKey).toBe('GET /callbacks/wecom/{tenant}');
    expect(e.requestContext.routeKey).toBe('GET /callbacks/wecom/{tenant}');
    expect(e.pathParameters).toEqual({ tenant: 'acme' });
    expect(e.requestContext.time).toBe('12/Mar/2026:19:03:58 +0000');
    expect(e.requestContext.timeEpoch).toBe(now.getTime());
    expect(e.requestContext.stage).toBe('$default');
    expect(e.version).toBe('2.0');
  });

  it('moves cookies out of the headers and joins repeated headers with commas', () => {
    const e = buildHttpApiEvent(
      req({ url: '/sso/acme', headers: { host: ['h:3000'], cookie: ['a=1; b=2', 'c=3'], 'x-multi': ['one', 'two'], 'user-agent': ['curl/8'] } }),
      { domainName: 'x', apiId: 'local', now },
    );
    expect(e.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(e.headers.cookie).toBeUndefined();
    expect(e.headers['x-multi']).toBe('one,two');
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.requestContext.http).toEqual({ method: 'GET', path: '/sso/acme', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8' });
    expect(e.requestContext.domainName).toBe('h');
    // A Function URL event: no route, no path parameters, no authorizer.
    expect(e.routeKey).toBe('$default');
    expect(e.pathParameters).toBeUndefined();
    expect(e.queryStringParameters).toBeUndefined();
    expect((e.requestContext as unknown as { authorizer?: unknown }).authorizer).toBeUndefined();
  });

  it('passes JSON and XML bodies as text and anything else as base64', () => {
    const text = buildHttpApiEvent(req({ method: 'POST', url: '/x', headers: { 'content-type': ['application/json; charset=utf-8'] }, body: Buffer.from('{"a":"中"}') }), { domainName: 'x', apiId: 'l' });
    expect(text).toMatchObject({ body: '{"a":"中"}', isBase64Encoded: false });
    const bin = Buffer.from([0, 255, 1, 2]);
    const b64 = buildHttpApiEvent(req({ method: 'POST', url: '/x', headers: { 'content-type': ['application/octet-stream'] }, body: bin }), { domainName: 'x', apiId: 'l' });
    expect(b64).toMatchObject({ body: bin.toString('base64'), isBase64Encoded: true });
    const noType = buildHttpApiEvent(req({ method: 'POST', url: '/x', body: Buffer.from('<xml/>') }), { domainName: 'x', apiId: 'l' });
    expect(noType).toMatchObject({ body: Buffer.from('<xml/>').toString('base64'), isBase64Encoded: true });
    const empty = buildHttpApiEvent(req({ url: '/x' }), { domainName: 'x', apiId: 'l' });
    expect(empty.body).toBeUndefined();
    expect(empty.isBase64Encoded).toBe(false);
  });

  it('classifies content types as API Gateway does', () => {
    expect(isTextContentType('text/xml')).toBe(true);
    expect(isTextContentType('application/xml')).toBe(true);
    expect(isTextContentType('application/javascript')).toBe(true);
    expect(isTextContentType('application/x-www-form-urlencoded')).toBe(false);
    expect(isTextContentType('application/jsonp')).toBe(false);
    expect(isTextContentType(undefined)).toBe(false);
  });

  it('formats requestContext.time with a two-digit day', () => {
    expect(formatClfTime(new Date(Date.UTC(2026, 0, 5, 1, 2, 3)))).toBe('05/Jan/2026:01:02:03 +0000');
  });
});

describe('toHttpResult', () => {
  it('answers 200 JSON for a string or an object without statusCode', () => {
    expect(toHttpResult('hello')).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
    expect(toHttpResult('hello').body.toString()).toBe('hello');
    expect(toHttpResult({ unread: 3 }).body.toString()).toBe('{"unread":3}');
  });

  it('maps status, headers, cookies and a base64 body', () => {
    const r = toHttpResult({ statusCode: 302, headers: { Location: 'https://x/' }, cookies: ['s=1; HttpOnly'], body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('https://x/');
    expect(r.cookies).toEqual(['s=1; HttpOnly']);
    expect([...r.body]).toEqual([1, 2, 3]);
  });

  it('rejects a malformed result', () => {
    expect(() => toHttpResult({ statusCode: 'teapot' })).toThrow(MalformedResultError);
    expect(() => toHttpResult({ statusCode: 200, body: { not: 'a string' } })).toThrow(MalformedResultError);
  });
});

describe('the local IAM routes', () => {
  it('refuses a caller that is not on this machine and never invokes the function', async () => {
    const invoked: string[] = [];
    const logger = createMemoryLogger();
    const handle = createGatewayHandler({ routes: ROUTES, logger, invoke: async (fn) => (invoked.push(fn), { statusCode: 200 }) });
    const refused = await handle(req({ url: '/admin/tenants', sourceIp: '192.168.1.20' }), '127.0.0.1:3000');
    expect(refused.statusCode).toBe(403);
    expect(invoked).toEqual([]);
    const open = await handle(req({ url: '/sso/acme', sourceIp: '192.168.1.20' }), '127.0.0.1:3000');
    expect(open.statusCode).toBe(200);
    const local = await handle(req({ url: '/admin/tenants', sourceIp: '::ffff:127.0.0.1' }), '127.0.0.1:3000');
    expect(local.statusCode).toBe(200);
    expect(invoked).toEqual(['sso', 'admin']);
  });
});
