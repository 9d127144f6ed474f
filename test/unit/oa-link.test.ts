import { describe, expect, it } from 'vitest';
import { buildOaLink, oaCanonicalString, oaSignature, verifyOaLink } from '../../shared/use-cases/sso/oa-link';

describe('signed OA links', () => {
  it('matches the worked example in the README (what OA integrators compare against)', () => {
    const params = { user: 'u001', ts: '1700000000000', nonce: 'n0nce123' };
    expect(oaCanonicalString('acme', params)).toBe('nonce=n0nce123&tenant=acme&ts=1700000000000&user=u001');
    expect(oaSignature('0123456789abcdef0123', 'acme', params)).toBe('a320fdc974e36480c51201f94d95f9a03e71c97d1ac5129687ad624c551c1445');
  });

  it('signs raw values and omits empty optional parameters', () => {
    expect(oaCanonicalString('t1', { user: '张三&x', ts: '1', nonce: 'abcdefgh', mid: '', module: 'mbox.ListModule|{"fid":1}' })).toBe(
      'module=mbox.ListModule|{"fid":1}&nonce=abcdefgh&tenant=t1&ts=1&user=张三&x',
    );
  });

  it('verifies a built link and refuses one for another tenant', () => {
    const now = 1_800_000_000_000;
    const url = new URL(buildOaLink({ baseUrl: 'https://b.example.com', tenantId: 'acme', secret: 's'.repeat(20), user: 'u1', now, module: 'mbox.ListModule|{"fid":1}' }));
    const q = Object.fromEntries(url.searchParams);
    expect(verifyOaLink({ tenantId: 'acme', secret: 's'.repeat(20), query: q, now, windowSeconds: 300 }).user).toBe('u1');
    expect(() => verifyOaLink({ tenantId: 'other', secret: 's'.repeat(20), query: q, now, windowSeconds: 300 })).toThrow(/not valid/);
  });
});
