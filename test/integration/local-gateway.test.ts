import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type FunctionName } from '../../shared/contracts/app-manifest';
import { createMemoryLogger } from '../../shared/logging/logger';
import { createFunctionUrlHandler, createGatewayHandler, startHttpServer, type RunningHttpServer } from '../../local/http-gateway';

/** Every event a test handler received, and what it should answer. */
const seen: Array<{ fn: FunctionName; event: APIGatewayProxyEventV2 }> = [];
let answer: (event: APIGatewayProxyEventV2) => unknown = () => ({ statusCode: 200, body: 'ok' });
const logger = createMemoryLogger();

async function invoke(fn: FunctionName, event: APIGatewayProxyEventV2): Promise<unknown> {
  seen.push({ fn, event });
  return answer(event);
}

let gateway: RunningHttpServer;
let fnUrl: RunningHttpServer;

beforeAll(async () => {
  gateway = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    what: 'test gateway',
    envVar: 'QIYE_PORT',
    maxBodyBytes: 64 * 1024,
    logger,
    handle: createGatewayHandler({ routes: ROUTES, invoke, logger }),
  });
  fnUrl = await startHttpServer({ host: '127.0.0.1', port: 0, what: 'test fn url', envVar: 'QIYE_SSO_PORT', logger, handle: createFunctionUrlHandler({ fn: 'sso', invoke, logger }) });
});
afterAll(async () => {
  await gateway?.stop();
  await fnUrl?.stop();
});

function last() {
  const e = seen.at(-1);
  if (!e) throw new Error('no invocation');
  return e;
}

/** A raw request, so the path and query go out exactly as written (fetch would normalise them). */
function send(base: string, method: string, path: string, opts: { headers?: Record<string, string | string[]>; body?: Buffer | string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const url = new URL(base);
    const r = httpRequest({ host: url.hostname, port: url.port, method, path, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}

describe('local HTTP API gateway', () => {
  it('delivers a WeCom-style query with "+" and "%2B" unchanged in rawQueryString', async () => {
    answer = () => ({ statusCode: 200, body: 'echo' });
    const query = 'msg_signature=5c45ff5e&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D&x=a+b';
    const res = await send(gateway.url, 'GET', `/callbacks/wecom/acme?${query}`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('echo');
    const { fn, event } = last();
    expect(fn).toBe('wecomCallback');
    expect(event.routeKey).toBe('GET /callbacks/wecom/{tenant}');
    expect(event.pathParameters).toEqual({ tenant: 'acme' });
    expect(event.rawQueryString).toBe(query);
    expect(event.queryStringParameters?.echostr).toBe('P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==');
    expect(event.queryStringParameters?.x).toBe('a b');
    expect(event.requestContext.http.sourceIp).toBe('127.0.0.1');
  });

  it('passes a binary body base64-encoded and a JSON body as text', async () => {
    const bin = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]);
    await send(gateway.url, 'POST', '/callbacks/dingtalk/acme?signature=s', { headers: { 'content-type': 'application/octet-stream' }, body: bin });
    expect(last().event).toMatchObject({ isBase64Encoded: true, body: bin.toString('base64'), routeKey: 'POST /callbacks/dingtalk/{tenant}' });
    await send(gateway.url, 'POST', '/callbacks/dingtalk/acme', { headers: { 'content-type': 'application/json' }, body: '{"encrypt":"abc+/="}' });
    expect(last().event).toMatchObject({ isBase64Encoded: false, body: '{"encrypt":"abc+/="}' });
  });

  it('hands cookies over as an array and sets the cookies the handler returns', async () => {
    answer = () => ({ statusCode: 302, headers: { location: 'http://127.0.0.1:3101/entry' }, cookies: ['a=1; Path=/', 'b=2; HttpOnly'] });
    const res = await send(gateway.url, 'GET', '/sso/acme', { headers: { cookie: 'sid=abc; theme=dark' } });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3101/entry');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(last().event.cookies).toEqual(['sid=abc', 'theme=dark']);
    expect(last().event.headers.cookie).toBeUndefined();
  });

  it('gives IAM routes the local principal and the greedy path', async () => {
    answer = (e) => ({ method: e.requestContext.http.method });
    const res = await send(gateway.url, 'PUT', '/admin/tenants/acme/approvals/run-1', { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({ method: 'PUT' });
    const { fn, event } = last();
    expect(fn).toBe('admin');
    expect(event.routeKey).toBe('ANY /admin/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'tenants/acme/approvals/run-1' });
    const iam = (event.requestContext as unknown as { authorizer: { iam: { userArn: string; accountId: string } } }).authorizer.iam;
    expect(iam.userArn).toBe('arn:aws:iam::000000000000:user/local-developer');
    expect(iam.accountId).toBe('000000000000');
  });

  it('answers 404 for an unknown route without invoking anything', async () => {
    const before = seen.length;
    const res = await send(gateway.url, 'GET', '/nowhere');
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Not Found' });
    expect(seen.length).toBe(before);
  });

  it('refuses a body above the limit with 413 without invoking anything', async () => {
    const before = seen.length;
    const res = await send(gateway.url, 'POST', '/callbacks/dingtalk/acme', { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(64 * 1024 + 1, 0x61) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    expect(seen.length).toBe(before);
    // Same limit for a chunked body with no Content-Length.
    const chunked = await send(gateway.url, 'POST', '/callbacks/dingtalk/acme', { headers: { 'transfer-encoding': 'chunked' }, body: Buffer.alloc(70 * 1024, 0x61) });
    expect(chunked.status).toBe(413);
    expect(seen.length).toBe(before);
  });

  it('turns a thrown error or a malformed result into a generic 500 and logs it', async () => {
    answer = () => {
      throw new Error('db password is hunter2');
    };
    const res = await send(gateway.url, 'GET', '/unread/acme');
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('{"message":"Internal Server Error"}');
    expect(logger.lines.some((l) => l.msg === 'handler failed' && l.function === 'unread')).toBe(true);
    answer = () => ({ statusCode: 'nope' });
    expect((await send(gateway.url, 'GET', '/unread/acme')).status).toBe(500);
  });
});

describe('local function URL', () => {
  it('sends any path to the SSO function with routeKey $default', async () => {
    answer = () => ({ statusCode: 200, headers: { 'content-type': 'text/html' }, body: '<p>hi</p>' });
    const res = await send(fnUrl.url, 'GET', '/sso/acme?ticket=ST-1+2');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html');
    const { fn, event } = last();
    expect(fn).toBe('sso');
    expect(event.routeKey).toBe('$default');
    expect(event.rawPath).toBe('/sso/acme');
    expect(event.rawQueryString).toBe('ticket=ST-1+2');
    expect(event.pathParameters).toBeUndefined();
  });

  it('answers 502 when the function fails', async () => {
    answer = () => Promise.reject(new Error('boom'));
    expect((await send(fnUrl.url, 'GET', '/anything')).status).toBe(502);
  });
});
