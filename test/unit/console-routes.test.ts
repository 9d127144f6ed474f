/**
 * The console function with in-memory stores: what the browser tests cannot see cheaply.
 * Every page carries the strict CSP; signed-out requests get the sign-in page or a 401;
 * a role-less identity is refused at sign-in; the CSS is served as a file.
 */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { makeHandler } from '../../functions/http/console/handler';
import { CSP, type ConsoleDeps } from '../../functions/http/console/console-context';
import { MemoryConsoleStore } from '../../shared/adapters/memory/memory-console.store';
import { createMemoryStateStores } from '../../shared/adapters/memory/memory-state.store';
import { tenantsFileSchema } from '../../shared/config/tenant-config.schema';
import { createMemoryLogger } from '../../shared/logging/logger';
import type { CasTicketValidator } from '../../shared/ports/cas-ticket-validator';
import { fixedClock } from '../../shared/ports/clock';
import { deriveConsoleKeys } from '../../shared/use-cases/console/session';
import { consoleLinkTarget } from '../../shared/use-cases/console/sign-in';

const config = tenantsFileSchema.parse({
  tenants: [{ id: 'acme', netease: { domain: 'acme.com', product: 'p', region: 'hz' }, ekp: { baseUrl: 'http://127.0.0.1:9', auth: { type: 'none' } }, sso: { cas: { baseUrl: 'https://cas.example.com/cas' } }, console: { admins: ['oa:boss', 'cas:casboss'] } }],
});
const clock = fixedClock(Date.UTC(2026, 0, 1));
const stores = createMemoryStateStores({ clock });
const store = new MemoryConsoleStore({ clock });
// A CAS server that remembers the service URLs it was given (they must be the configured public URL).
const casServices: string[] = [];
const cas: CasTicketValidator = {
  loginUrl: (service) => `https://cas.example.com/cas/login?service=${encodeURIComponent(service)}`,
  validate: async (service, ticket) => {
    casServices.push(service);
    if (ticket !== 'ST-good') throw new Error('bad ticket');
    return 'casboss';
  },
};
const deps: ConsoleDeps = {
  config,
  logger: createMemoryLogger('error'),
  clock,
  stage: 'test',
  store,
  once: stores.once,
  secrets: { getJson: async () => undefined, putJson: async () => undefined },
  sync: { stores, jobs: { send: async () => undefined }, clock, logger: createMemoryLogger('error'), tenants: () => config.tenants, directory: async () => { throw new Error('no source'); }, netease: async () => { throw new Error('no netease'); } },
  signIn: { once: stores.once, clock, oaLinkSecret: async () => 'x'.repeat(32), vendorSso: async () => { throw new Error('none'); }, cas: () => cas, consoleBaseUrl: 'https://console.example.com' },
  keys: async () => deriveConsoleKeys('k'.repeat(40)),
  tokenCheck: async () => ({ ok: true, detail: 'test' }),
};
const handler = makeHandler(deps);

function event(method: string, path: string, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  const [rawPath, rawQueryString = ''] = path.split('?');
  return {
    version: '2.0', routeKey: `${method} /console/{proxy+}`, rawPath: rawPath!, rawQueryString, headers: { host: 'api.example.com', 'x-forwarded-proto': 'https' },
    requestContext: { accountId: '1', apiId: 'a', domainName: 'api.example.com', domainPrefix: 'api', http: { method, path: rawPath!, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' }, requestId: 'r', routeKey: 'x', stage: '$default', time: '', timeEpoch: 0 },
    isBase64Encoded: false,
    ...extra,
  } as APIGatewayProxyEventV2;
}
const call = async (e: APIGatewayProxyEventV2) => (await handler(e, {} as Context)) as { statusCode: number; headers: Record<string, string>; body: string; cookies?: string[] };

describe('console routes', () => {
  it('shows the sign-in page to a signed-out browser, with the strict CSP and no script', async () => {
    const r = await call(event('GET', '/console?lang=en'));
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-security-policy']).toBe(CSP);
    expect(r.body).toContain('Sign in to the console');
    expect(r.body).not.toMatch(/<script/i);
    expect(r.cookies?.[0]).toMatch(/^qb_lang=en;/);
  });

  it('answers 401 to a signed-out request for a tenant page or action', async () => {
    expect((await call(event('GET', '/console/t/acme/runs'))).statusCode).toBe(401);
    expect((await call(event('POST', '/console/t/acme/sync', { body: 'mode=full' }))).statusCode).toBe(401);
  });

  it('refuses a signed-in identity that has no role, and records the refusal', async () => {
    const { buildOaLink } = await import('../../shared/use-cases/sso/oa-link');
    const link = new URL(buildOaLink({ baseUrl: 'https://api.example.com', tenantId: 'acme', secret: 'x'.repeat(32), user: 'stranger', module: 'console', targetCheck: consoleLinkTarget, now: clock.now(), path: '/console/signin/acme/oa' }));
    const r = await call(event('GET', `${link.pathname}?${link.searchParams}`));
    expect(r.statusCode).toBe(403);
    expect(r.cookies).toBeUndefined();
    expect((await store.listAudit('acme')).items[0]).toMatchObject({ actor: 'oa:stranger@acme', action: 'signin', outcome: 'refused' });
  });

  it('signs an admin in through a console OA link and refuses a mail SSO link (no module=console)', async () => {
    const { buildOaLink } = await import('../../shared/use-cases/sso/oa-link');
    const mail = new URL(buildOaLink({ baseUrl: 'https://api.example.com', tenantId: 'acme', secret: 'x'.repeat(32), user: 'boss', now: clock.now(), path: '/console/signin/acme/oa' }));
    expect((await call(event('GET', `${mail.pathname}?${mail.searchParams}`))).statusCode).toBe(401);
    const ok = new URL(buildOaLink({ baseUrl: 'https://api.example.com', tenantId: 'acme', secret: 'x'.repeat(32), user: 'boss', module: 'console', targetCheck: consoleLinkTarget, now: clock.now(), path: '/console/signin/acme/oa' }));
    const r = await call(event('GET', `${ok.pathname}?${ok.searchParams}`));
    expect(r.statusCode).toBe(200);
    expect(r.cookies?.[0]).toMatch(/^__Host-qb_console=.+; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const cookie = r.cookies![0]!.split(';')[0]!;
    const overview = await call(event('GET', '/console', { cookies: [cookie] }));
    expect(overview.body).toContain('oa:boss@acme');
    expect(overview.body).toContain('data-tenant="acme"');
  });

  it('sends CAS back to the configured public URL, never to the Host or X-Forwarded-Host of the request', async () => {
    const forged = { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' } };
    const start = await call(event('GET', '/console/signin/acme/cas', forged));
    expect(start.statusCode).toBe(302);
    const service = new URL(start.headers.location!).searchParams.get('service');
    expect(service).toBe('https://console.example.com/console/signin/acme/cas');
    const done = await call(event('GET', '/console/signin/acme/cas?ticket=ST-good', forged));
    expect(done.statusCode).toBe(200);
    expect(casServices.at(-1)).toBe('https://console.example.com/console/signin/acme/cas');
    expect(done.cookies?.[0]).toMatch(/^__Host-qb_console=/);
  });

  it('refuses to start a sign-in when no public base URL is configured, instead of guessing one from the request', async () => {
    const bare = makeHandler({ ...deps, signIn: { ...deps.signIn, consoleBaseUrl: undefined } });
    const r = (await bare(event('GET', '/console/signin/acme/cas'), {} as Context)) as { statusCode: number; headers: Record<string, string> };
    expect(r.statusCode).toBeGreaterThanOrEqual(500);
    expect(r.headers.location).toBeUndefined();
  });

  it('serves the stylesheet the CSP allows', async () => {
    const r = await call(event('GET', '/console/static/console.css'));
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/css/);
  });
});
