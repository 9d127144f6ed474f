/**
 * Every malformed request from test/fixtures/bad-callbacks.ts, through the reference
 * pipeline (parseRawQuery → verify/decrypt → parse event): each is refused with its code,
 * replays carry the same event identity, and no refusal leaks secrets or plaintext.
 */
import { describe, expect, it } from 'vitest';
import { CallbackError } from '../../shared/crypto/callback-crypto-common';
import {
  makeBadCallbacks,
  makeValidCallback,
  referencePipeline,
  type BadCallbackKind,
  type CallbackTenant,
  type CallbackVendor,
} from '../fixtures/bad-callbacks';

const now = 1_760_000_000_000;
const tenants: Record<CallbackVendor, CallbackTenant> = {
  dingtalk: { token: 'dt-callback-token-1', aesKey: 'Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7', receiverId: 'dingsandboxappkey01', corpId: 'dingsandboxcorp0001' },
  wecom: { token: 'wc-callback-token-1', aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', receiverId: 'wwsandboxcorp00001' },
};
const KINDS: Record<CallbackVendor, BadCallbackKind[]> = {
  dingtalk: ['bad-signature', 'wrong-receiver', 'stale-timestamp', 'replay', 'bad-ciphertext', 'oversized', 'wrong-tenant', 'bad-request', 'bad-payload'],
  wecom: ['bad-signature', 'wrong-receiver', 'stale-timestamp', 'replay', 'bad-ciphertext', 'oversized', 'unsafe-xml', 'wrong-tenant', 'bad-request', 'bad-payload'],
};

describe.each(['dingtalk', 'wecom'] as const)('bad %s callbacks', (vendor) => {
  const tenant = tenants[vendor];
  const bad = makeBadCallbacks({ vendor, tenant, now });

  it('the valid baseline (and, for WeCom, a URL verification) is accepted', () => {
    expect(referencePipeline(vendor, makeValidCallback({ vendor, tenant, now }), tenant, now).outcome).toBe('contact');
    if (vendor === 'wecom') {
      expect(referencePipeline(vendor, makeValidCallback({ vendor, tenant, now, method: 'GET' }), tenant, now)).toMatchObject({ outcome: 'echo', reply: expect.stringMatching(/^\d{19}$/) });
    }
  });

  it('has at least 200 uniquely named requests covering every kind, and is deterministic', () => {
    expect(bad.length).toBeGreaterThanOrEqual(200);
    expect(new Set(bad.map((b) => b.name)).size).toBe(bad.length);
    expect([...new Set(bad.map((b) => b.kind))].sort()).toEqual([...KINDS[vendor]].sort());
    expect(makeBadCallbacks({ vendor, tenant, now })).toEqual(bad);
  });

  it('refuses every malformed request with its expected code', () => {
    const mismatches: string[] = [];
    for (const b of bad.filter((x) => x.expectedCode !== 'DUPLICATE')) {
      try {
        referencePipeline(vendor, b, tenant, now);
        mismatches.push(`${b.name}: accepted, expected ${b.expectedCode}`);
      } catch (err) {
        if (!(err instanceof CallbackError)) mismatches.push(`${b.name}: threw ${String(err)}`);
        else if (err.code !== b.expectedCode) mismatches.push(`${b.name}: ${err.code}, expected ${b.expectedCode}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('replays (identical or re-encrypted) verify but carry the same event identity, so dedup enqueues once', () => {
    const replays = bad.filter((b) => b.expectedCode === 'DUPLICATE');
    expect(replays.length).toBeGreaterThanOrEqual(10);
    const seen = new Set<string>();
    let enqueued = 0;
    for (const b of replays) {
      for (const req of [b, b.replay ?? b]) {
        const r = referencePipeline(vendor, req, tenant, now);
        if (r.outcome !== 'contact') throw new Error(`${b.name}: ${r.outcome}`);
        if (!seen.has(r.eventId)) {
          seen.add(r.eventId);
          enqueued++;
        }
      }
    }
    expect(enqueued).toBe(replays.length);
  });

  it('no refusal message contains the token, the key, a receiver id or decrypted content', () => {
    const forbidden = [tenant.token, tenant.aesKey, tenant.receiverId, ...(tenant.corpId ? [tenant.corpId] : []), 'u-0', 'u-inner', '<xml>', '{"', 'CDATA'];
    for (const b of bad.filter((x) => x.expectedCode !== 'DUPLICATE')) {
      try {
        referencePipeline(vendor, b, tenant, now);
      } catch (err) {
        const e = err as CallbackError;
        const text = `${e.message} ${JSON.stringify(e.details ?? {})}`;
        for (const f of forbidden) expect(text, b.name).not.toContain(f);
        expect(e.retryable).toBe(false);
        expect(e.status).toBeGreaterThanOrEqual(400);
        expect(e.status).toBeLessThan(500);
      }
    }
  });

  it('another tenant\'s requests are refused for this tenant but accepted by their own', () => {
    const other: CallbackTenant = { ...tenant, token: 'other-token', aesKey: 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus', receiverId: tenant.receiverId + 'x' };
    const req = makeValidCallback({ vendor, tenant: { ...other, corpId: undefined }, now });
    expect(referencePipeline(vendor, req, { ...other, corpId: undefined }, now).outcome).toBe('contact');
    expect(() => referencePipeline(vendor, req, tenant, now)).toThrow(CallbackError);
  });
});
