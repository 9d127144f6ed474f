/**
 * The generated bad-callback suite (test/fixtures/bad-callbacks.ts) through the real callback
 * handlers, plus handler-level cases (unknown tenants, oversized base64 bodies, replays after
 * the timestamp window). Every request is sent twice: as a text body and as a body API
 * Gateway delivered base64-encoded.
 *
 * What the user cares about: a forged, stale, garbled, oversized, unsafe or misrouted callback
 * is refused with a 4xx carrying its code and changes nothing (no queue message, no call to
 * the dedup store); a replay is acknowledged but enqueued once; an authentic event whose
 * content is unusable (CALLBACK.BAD_PAYLOAD) is acknowledged and changes nothing either.
 * The test prints how many of each kind it tried.
 */
import { describe, expect, it } from 'vitest';
import { markdownTable } from '../../bench/table';
import { DEFAULT_WINDOW_SECONDS, MAX_CALLBACK_BYTES, decrypt } from '../../shared/crypto/callback-crypto-common';
import { makeBadCallbacks, makeValidCallback, type BadCallback, type CallbackRequest, type CallbackVendor } from '../fixtures/bad-callbacks';
import { NOW, createHarness, type Harness, type HttpAnswer } from './callback-harness';

type Verdict = 'refused' | 'acknowledged' | 'enqueued-once' | 'wrong';

interface Tried {
  kind: string;
  name: string;
  verdict: Verdict;
  /** Status and code, e.g. `401 CALLBACK.BAD_SIGNATURE`. */
  answer: string;
  why?: string;
}

const UNKNOWN_TENANTS = ['nosuch', 'sandbox-x', 'SANDBOX-DINGTALK', 'sandbox', 'a', '-sandbox-wecom', 'x'.repeat(40), 'sandbox-dingtalk-'];

/** The unknown tenant paths for `vendor` (`sandbox` has a DingTalk channel, so it lacks only WeCom). */
function unknownTenants(vendor: string): string[] {
  return UNKNOWN_TENANTS.filter((x) => !(vendor === 'dingtalk' && x === 'sandbox'));
}

function codeOf(res: HttpAnswer): string {
  try {
    return (JSON.parse(res.body) as { error?: string }).error ?? '';
  } catch {
    return '';
  }
}

/** Sends one request that must change nothing; returns how it was answered. */
async function sendHarmless(h: Harness, vendor: CallbackVendor, req: CallbackRequest, expected: string, opts: { tenantId?: string; base64?: boolean }): Promise<Omit<Tried, 'kind' | 'name'>> {
  const sentBefore = h.queue.sent.length;
  const onceBefore = h.onceCalls.length;
  const res = await h.send(vendor, req, opts);
  const answer = `${res.status} ${codeOf(res) || (res.body === '' ? '(empty)' : 'body')}`;
  if (h.queue.sent.length !== sentBefore) return { verdict: 'wrong', answer, why: 'enqueued' };
  if (h.onceCalls.length !== onceBefore) return { verdict: 'wrong', answer, why: 'touched the dedup store' };
  for (const secret of [h.tenants[vendor].token, h.tenants[vendor].aesKey]) if (res.body.includes(secret)) return { verdict: 'wrong', answer, why: 'secret in the answer' };
  if (expected === 'CALLBACK.BAD_PAYLOAD' && wellFormed(h, vendor, req)) {
    // Authentic but unusable: acknowledged in the vendor's success form.
    if (res.status !== 200) return { verdict: 'wrong', answer, why: 'expected an acknowledgement' };
    if (vendor === 'dingtalk') {
      const r = JSON.parse(res.body) as { encrypt: string };
      if (decrypt(r.encrypt, h.tenants.dingtalk.aesKey).message !== 'success') return { verdict: 'wrong', answer, why: 'reply is not the encrypted success' };
    } else if (res.body !== '') return { verdict: 'wrong', answer, why: 'WeCom ack must be empty' };
    return { verdict: 'acknowledged', answer };
  }
  if (res.status < 400 || res.status >= 500) return { verdict: 'wrong', answer, why: 'not a 4xx' };
  if (codeOf(res) !== expected) return { verdict: 'wrong', answer, why: `expected ${expected}` };
  return { verdict: 'refused', answer };
}

/**
 * Authentic payloads are acknowledged only when well-formed (a JSON object; for WeCom, BAD_PAYLOAD
 * only exists after the XML parsed): that is a vendor event we cannot use. Text that is not
 * even a JSON object is refused like any other garbage (see accept-callback.ts).
 */
function wellFormed(h: Harness, vendor: CallbackVendor, req: CallbackRequest): boolean {
  if (vendor === 'wecom') return true;
  const { message } = decrypt((JSON.parse(req.body) as { encrypt: string }).encrypt, h.tenants.dingtalk.aesKey);
  try {
    const v: unknown = JSON.parse(message);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

async function runSuite(vendor: CallbackVendor): Promise<{ tried: Tried[]; h: Harness }> {
  const h = createHarness();
  const tenant = h.tenants[vendor];
  const bad: BadCallback[] = makeBadCallbacks({ vendor, tenant, now: NOW });
  const tried: Tried[] = [];

  // 1. Every single-defect request, as text and as a base64-encoded body.
  for (const b of bad.filter((x) => x.expectedCode !== 'DUPLICATE')) {
    for (const base64 of [false, true]) {
      tried.push({ kind: b.kind, name: `${b.name}${base64 ? ' [base64]' : ''}`, ...(await sendHarmless(h, vendor, b, b.expectedCode, { base64 })) });
    }
  }

  // 2. Handler-level: the path names a tenant that does not exist (or lacks this vendor).
  const valid = makeValidCallback({ vendor, tenant, now: NOW, userId: 'misrouted' });
  for (const id of unknownTenants(vendor)) {
    tried.push({ kind: 'wrong-tenant', name: `unknown-tenant-path ${id}`, ...(await sendHarmless(h, vendor, valid, 'TENANT.UNKNOWN', { tenantId: id })) });
  }
  // Oversized bodies that arrive base64-encoded (refused before and after decoding).
  const big = { ...valid, body: valid.body + ' '.repeat(MAX_CALLBACK_BYTES) };
  tried.push({ kind: 'oversized', name: 'base64-body-over-limit', ...(await sendHarmless(h, vendor, big, 'CALLBACK.TOO_LARGE', { base64: true })) });
  const justOver = { ...valid, body: valid.body + ' '.repeat(MAX_CALLBACK_BYTES + 1 - Buffer.byteLength(valid.body)) };
  tried.push({ kind: 'oversized', name: 'base64-body-one-byte-over', ...(await sendHarmless(h, vendor, justOver, 'CALLBACK.TOO_LARGE', { base64: true })) });

  // 3. Replays within the window: acknowledged twice, enqueued once, one dedup record.
  for (const b of bad.filter((x) => x.expectedCode === 'DUPLICATE')) {
    const before = h.queue.sent.length;
    const first = await h.send(vendor, b);
    const second = await h.send(vendor, b.replay ?? b);
    const added = h.queue.sent.length - before;
    const ok = first.status === 200 && second.status === 200 && added === 1;
    tried.push({ kind: 'replay', name: b.name, verdict: ok ? 'enqueued-once' : 'wrong', answer: `${first.status}, ${second.status}`, ...(ok ? {} : { why: `${added} messages` }) });
  }

  // 4. Replays after the window: a captured, once-accepted request sent again later is stale.
  const late = [0, 1, 2].map((i) => makeValidCallback({ vendor, tenant, now: NOW, userId: `late-${i}` }));
  for (const req of late) expect((await h.send(vendor, req)).status).toBe(200);
  h.clock.advance((DEFAULT_WINDOW_SECONDS + 1) * 1000);
  for (const [i, req] of late.entries()) {
    tried.push({ kind: 'replay', name: `late-replay-${i}`, ...(await sendHarmless(h, vendor, req, 'CALLBACK.STALE_TIMESTAMP', {})) });
  }
  return { tried, h };
}

function summarize(vendor: CallbackVendor, tried: Tried[]): string {
  const kinds = [...new Set(tried.map((t) => t.kind))];
  const rows = kinds.map((k) => {
    const of = tried.filter((t) => t.kind === k);
    const answers = new Map<string, number>();
    for (const t of of) answers.set(t.answer, (answers.get(t.answer) ?? 0) + 1);
    return [
      k,
      of.length,
      of.filter((t) => t.verdict === 'refused').length,
      of.filter((t) => t.verdict === 'acknowledged').length,
      of.filter((t) => t.verdict === 'enqueued-once').length,
      of.filter((t) => t.verdict === 'wrong').length,
      [...answers].map(([a, n]) => `${a} ×${n}`).join(', '),
    ];
  });
  rows.push(['total', tried.length, ...(['refused', 'acknowledged', 'enqueued-once', 'wrong'] as const).map((v) => tried.filter((t) => t.verdict === v).length), '']);
  return `\n${vendor} bad callbacks through the handler (text and base64 bodies):\n` + markdownTable(['kind', 'tried', 'refused 4xx', 'authentic, acked, not enqueued', 'replay: enqueued once', 'WRONG', 'answers'], rows);
}

describe.each(['dingtalk', 'wecom'] as const)('bad %s callbacks through the handler', (vendor) => {
  it('are refused with a 4xx and their code (or, if authentic but unusable, acknowledged) and change nothing; replays are enqueued once', async () => {
    const { tried, h } = await runSuite(vendor);
    console.log(summarize(vendor, tried));

    expect(tried.filter((t) => t.verdict === 'wrong').map((t) => `${t.name}: ${t.answer} (${t.why})`)).toEqual([]);

    // The counts the fixture promises, per kind (text + base64 = 2 sends per request).
    const count = (kind: string, verdict: Verdict) => tried.filter((t) => t.kind === kind && t.verdict === verdict).length;
    const bad = makeBadCallbacks({ vendor, tenant: h.tenants[vendor], now: NOW });
    const perKind = (kind: string, pred: (b: BadCallback) => boolean = () => true) => bad.filter((b) => b.kind === kind && pred(b)).length;
    for (const kind of ['bad-signature', 'wrong-receiver', 'stale-timestamp', 'bad-ciphertext', 'bad-request', ...(vendor === 'wecom' ? ['unsafe-xml'] : [])]) {
      expect(count(kind, 'refused'), kind).toBe(2 * perKind(kind));
      expect(perKind(kind), kind).toBeGreaterThan(0);
    }
    expect(count('oversized', 'refused')).toBe(2 * perKind('oversized') + 2);
    expect(count('wrong-tenant', 'refused')).toBe(2 * perKind('wrong-tenant') + unknownTenants(vendor).length);
    const acked = (b: BadCallback) => b.expectedCode === 'CALLBACK.BAD_PAYLOAD' && wellFormed(h, vendor, b);
    expect(count('bad-payload', 'refused')).toBe(2 * perKind('bad-payload', (b) => !acked(b)));
    expect(count('bad-payload', 'acknowledged')).toBe(2 * perKind('bad-payload', acked));
    expect(perKind('bad-payload', acked)).toBeGreaterThan(0);
    expect(count('replay', 'enqueued-once')).toBe(perKind('replay'));
    expect(count('replay', 'refused')).toBe(3);

    // At least 200 distinct bad requests refused with a 4xx (each also sent base64-encoded).
    const distinctRefused = new Set(tried.filter((t) => t.verdict === 'refused').map((t) => t.name.replace(' [base64]', '')));
    expect(distinctRefused.size).toBeGreaterThanOrEqual(200);

    // Nothing reached the queue but the replays' first acceptances and the three late-replay originals.
    expect(h.queue.contactEvents()).toHaveLength(perKind('replay') + 3);
    // The dedup store saw exactly two begins per replay pair, one complete, and the late ones.
    expect(h.onceCalls.filter((c) => c.method === 'complete')).toHaveLength(perKind('replay') + 3);
    expect(h.onceCalls.filter((c) => c.method === 'begin')).toHaveLength(2 * perKind('replay') + 3);
  });
});
