/** The unread widget's page, CSP and CORS rules (shared/http/unread-widget.ts). */
import { describe, expect, it } from 'vitest';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';
import { unreadCorsHeaders, widgetCsp, widgetPage, widgetResponse } from '../../shared/http/unread-widget';

function tenant(corsOrigins: string[]): TenantConfig {
  return tenantSchema.parse({ id: 'acme', netease: { domain: 'acme.com', product: 'p', region: 'hz' }, unread: { corsOrigins } });
}

describe('unreadCorsHeaders', () => {
  it('allows only the listed origins, any origin for "*", and none when the list is empty or no Origin was sent', () => {
    const portal = 'https://oa.acme.com';
    expect(unreadCorsHeaders(tenant([portal]), portal)).toEqual({ 'access-control-allow-origin': portal, vary: 'Origin' });
    expect(unreadCorsHeaders(tenant([portal]), 'https://evil.example')).toEqual({});
    expect(unreadCorsHeaders(tenant(['*']), 'https://anyone.example')).toEqual({ 'access-control-allow-origin': '*' });
    expect(unreadCorsHeaders(tenant([]), portal)).toEqual({});
    expect(unreadCorsHeaders(tenant([portal]), undefined)).toEqual({});
  });
});

describe('widgetCsp', () => {
  it('lets the listed portal origins frame the widget, any for "*", only this site when none is listed; nothing else loads', () => {
    expect(widgetCsp(tenant(['https://oa.acme.com', 'https://portal.acme.com']))).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors https://oa.acme.com https://portal.acme.com");
    expect(widgetCsp(tenant(['*']))).toMatch(/frame-ancestors \*$/);
    expect(widgetCsp(tenant([]))).toMatch(/frame-ancestors 'self'$/);
  });
});

describe('widgetPage', () => {
  it('shows the count and escapes both links', () => {
    const page = widgetPage(3, 'https://b.test/sso/acme?a=1&sig="x"', 'https://b.test/unread/acme/widget?<t>', 60, 300);
    expect(page).toContain('您有 <b>3</b> 封新邮件');
    expect(page).toContain('href="https://b.test/sso/acme?a=1&amp;sig=&quot;x&quot;"');
    expect(page).toContain('url=https://b.test/unread/acme/widget?&lt;t&gt;"');
    expect(page).not.toContain('<t>');
  });

  it('says there is no new mail at 0', () => {
    expect(widgetPage(0, 'https://b.test/s', 'https://b.test/w', 60, 300)).toContain('没有新邮件');
  });

  it('reloads before the signed links expire: the cache period, at most the window less 30 s, at least 30 s', () => {
    const refresh = (cacheSeconds: number, windowSeconds: number) => Number(/content="(\d+);url=/.exec(widgetPage(1, 's', 'w', cacheSeconds, windowSeconds))![1]);
    expect(refresh(60, 300)).toBe(60);
    expect(refresh(600, 300)).toBe(270);
    expect(refresh(0, 300)).toBe(270);
    expect(refresh(5, 300)).toBe(30);
  });
});

describe('widgetResponse', () => {
  it('answers 200 HTML with the CORS headers given and the CSP', () => {
    const t = tenant(['https://oa.acme.com']);
    const res = widgetResponse(t, { count: 2, cached: false, ssoLink: 'https://b.test/s', widgetLink: 'https://b.test/w' }, { 'access-control-allow-origin': 'https://oa.acme.com' });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': 'https://oa.acme.com', 'content-security-policy': widgetCsp(t) });
    expect(res.body).toContain('您有 <b>2</b> 封新邮件');
  });
});
