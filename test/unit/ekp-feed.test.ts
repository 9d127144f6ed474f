/**
 * The tie-safe drain of EKP's alterTime feed (reference sync-and-ekp.md §A6), against an
 * in-memory server with the v16.0.5+ page cut (the simulator's store) and against the
 * older "run to the end of the millisecond" behaviour.
 */
import { describe, expect, it } from 'vitest';
import { decodeWatermark, drainFeed, encodeWatermark, MAX_WATERMARK_IDS } from '../../shared/adapters/ekp/ekp.feed';
import { MAX_WATERMARK_BYTES } from '../../shared/ports/store-common';
import { ekpElementSchema, type EkpOrgType, type EkpWireElement } from '../../shared/adapters/ekp/ekp.schema';
import type { EkpUpdatedPage } from '../../shared/adapters/ekp/ekp.client';
import { UpstreamError } from '../../shared/errors/app-error';
import { EkpOrgStore } from '../../local/simulators/ekp/ekp-org-store';

const T1 = '2024-03-01 08:00:00.100';
const T2 = '2024-03-01 08:00:00.200';
const T3 = '2024-03-01 08:00:00.300';

function person(id: string, alterTime: string): EkpWireElement {
  return { id, lunid: id, name: `n${id}`, type: 'person', isAvailable: true, isBusiness: true, isExternal: false, alterTime, hierarchyId: null, password: 'hash' };
}

function rows(prefix: string, n: number, t: string): EkpWireElement[] {
  return Array.from({ length: n }, (_, i) => person(`${prefix}${String(i).padStart(3, '0')}`, t));
}

/** A client over the simulator's store: v16.0.5+ paging (cut exactly at count). */
function v16Client(store: EkpOrgStore, calls: Array<{ begin?: string; count: number }> = []) {
  return {
    calls,
    async getUpdatedElements(req: { types: readonly EkpOrgType[]; count: number; beginTimeStamp?: string }): Promise<EkpUpdatedPage> {
      calls.push({ begin: req.beginTimeStamp, count: req.count });
      const page = store.updatedElements({ types: req.types, count: req.count, countFloor: 0, begin: req.beginTimeStamp });
      return { records: page.rows.map((r) => ekpElementSchema.parse(r)), timeStamp: page.timeStamp };
    },
  };
}

/** Pre-16.0.5 servers keep going past count until alterTime changes (§A6). */
function oldServerClient(all: EkpWireElement[]) {
  return {
    async getUpdatedElements(req: { count: number; beginTimeStamp?: string }): Promise<EkpUpdatedPage> {
      const sorted = all.filter((r) => req.beginTimeStamp === undefined || r.alterTime > req.beginTimeStamp).sort((a, b) => (a.alterTime < b.alterTime ? -1 : a.alterTime > b.alterTime ? 1 : 0));
      const out: EkpWireElement[] = [];
      for (const r of sorted) {
        if (out.length >= req.count && r.alterTime !== out[out.length - 1]?.alterTime) break;
        out.push(r);
      }
      return { records: out.map((r) => ekpElementSchema.parse(r)), timeStamp: out.at(-1)?.alterTime ?? req.beginTimeStamp };
    },
  };
}

/** The documented loop: beginTimeStamp = last timeStamp, stop when count < requested. */
async function naiveDrain(store: EkpOrgStore, pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  let begin: string | undefined;
  for (;;) {
    const page = store.updatedElements({ types: ['person'], count: pageSize, countFloor: 0, begin });
    ids.push(...page.rows.map((r) => r.id));
    if (page.rows.length < pageSize) return ids;
    begin = page.timeStamp;
  }
}

describe('drainFeed', () => {
  it('loses nothing when a page cut falls inside a millisecond (where the documented loop does)', async () => {
    // 7 rows at T1, 12 at T2, 3 at T3; pages of 10 cut inside T2.
    const all = [...rows('a', 7, T1), ...rows('b', 12, T2), ...rows('c', 3, T3)];
    const store = EkpOrgStore.fromElements(all);

    const naive = await naiveDrain(store, 10);
    expect(naive.length).toBeLessThan(all.length); // the trap is real in this server

    const result = await drainFeed(v16Client(store), 'person', undefined, { pageSize: 10 });
    const ids = result.records.map((r) => r.id);
    expect(ids).toHaveLength(all.length);
    expect(new Set(ids).size).toBe(all.length);
    expect(new Set(ids)).toEqual(new Set(all.map((r) => r.id)));
    expect(result.cursor).toEqual({ t: T3, ids: ['c000', 'c001', 'c002'] });
  });

  it('widens the page when one millisecond holds more rows than a page', async () => {
    const all = [...rows('a', 3, T1), ...rows('b', 25, T2), ...rows('c', 2, T3)];
    const client = v16Client(EkpOrgStore.fromElements(all));
    const result = await drainFeed(client, 'person', undefined, { pageSize: 10 });
    expect(result.records.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
    expect(Math.max(...client.calls.map((c) => c.count))).toBeGreaterThan(10);
    // And never asks the same question twice in a row.
    for (let i = 1; i < client.calls.length; i++) expect(client.calls[i]).not.toEqual(client.calls[i - 1]);
  });

  it('gives up with a clear non-retryable error instead of looping when a tie exceeds maxPageSize', async () => {
    const client = v16Client(EkpOrgStore.fromElements(rows('b', 40, T2)));
    const err = await drainFeed(client, 'person', undefined, { pageSize: 10, maxPageSize: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).code).toBe('EKP.TIE_TOO_LARGE');
    expect((err as UpstreamError).retryable).toBe(false);
  });

  it('re-reads the watermark millisecond inclusively and skips only the (id, alterTime) pairs already taken', async () => {
    const all = [...rows('a', 2, T1), ...rows('b', 4, T2), ...rows('c', 2, T3)];
    const client = v16Client(EkpOrgStore.fromElements(all));
    // The previous run stopped at T2 having taken b000..b002 (b003 was cut off).
    const result = await drainFeed(client, 'person', { t: T2, ids: ['b000', 'b001', 'b002'] }, { pageSize: 10 });
    expect(result.records.map((r) => r.id)).toEqual(['b003', 'c000', 'c001']);
    expect(client.calls[0]?.begin).toBe('2024-03-01 08:00:00.199');
  });

  it('keeps the cursor where it was when nothing changed', async () => {
    const client = v16Client(EkpOrgStore.fromElements(rows('a', 3, T1)));
    const result = await drainFeed(client, 'person', { t: T1, ids: ['a000', 'a001', 'a002'] }, { pageSize: 10 });
    expect(result.records).toEqual([]);
    expect(result.cursor).toEqual({ t: T1, ids: ['a000', 'a001', 'a002'] });
  });

  it('works the same against an older server whose pages run to the end of the millisecond', async () => {
    const all = [...rows('a', 7, T1), ...rows('b', 12, T2), ...rows('c', 3, T3)];
    const result = await drainFeed(oldServerClient(all), 'person', undefined, { pageSize: 10 });
    expect(result.records.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort());
  });

  it('keeps only the newest version of a row that changed while the drain was running', async () => {
    const store = EkpOrgStore.fromElements(rows('a', 15, T1));
    const inner = v16Client(store);
    let first = true;
    const client = {
      async getUpdatedElements(req: { types: readonly EkpOrgType[]; count: number; beginTimeStamp?: string }) {
        const page = await inner.getUpdatedElements(req);
        if (first) {
          first = false;
          store.upsertPeople([{ id: 'a000', name: '改名' }]); // a000 changes after we read it
        }
        return page;
      },
    };
    const result = await drainFeed(client, 'person', undefined, { pageSize: 10 });
    const a0 = result.records.filter((r) => r.id === 'a000');
    expect(a0).toHaveLength(1);
    expect(a0[0]?.name).toBe('改名');
    expect(result.records).toHaveLength(15);
  });

  it('stops remembering ids at the watermark when a huge tie would bloat it', async () => {
    const client = v16Client(EkpOrgStore.fromElements(rows('b', MAX_WATERMARK_IDS + 5, T2)));
    const result = await drainFeed(client, 'person', undefined, { pageSize: 1000 });
    expect(result.records).toHaveLength(MAX_WATERMARK_IDS + 5);
    expect(result.cursor).toEqual({ t: T2, ids: [] });
  });

  it('keeps the stored watermark within the store\'s limit however many ids tie at its millisecond', async () => {
    // A full tie in both department types, fdId-shaped ids (32 hex): everything is remembered.
    const hex = (p: string, i: number) => `${p}${String(i).padStart(31, '0')}`;
    const org = await drainFeed(v16Client(EkpOrgStore.fromElements(Array.from({ length: MAX_WATERMARK_IDS }, (_, i) => person(hex('a', i), T2)))), 'person', undefined, { pageSize: 1000 });
    const dept = await drainFeed(v16Client(EkpOrgStore.fromElements(Array.from({ length: MAX_WATERMARK_IDS }, (_, i) => person(hex('b', i), T3)))), 'person', undefined, { pageSize: 1000 });
    expect(org.cursor?.ids).toHaveLength(MAX_WATERMARK_IDS);
    const value = encodeWatermark({ org: org.cursor!, dept: dept.cursor! });
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(MAX_WATERMARK_BYTES);
    expect(decodeWatermark(value, ['org', 'dept'], 'department')).toEqual({ org: org.cursor, dept: dept.cursor });

    // Ids far longer than EKP's: the largest cursor forgets its ids (re-read once), the other keeps them.
    const long = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(150, '0')}`);
    const bounded = encodeWatermark({ org: { t: T2, ids: long('a', 300) }, dept: { t: T3, ids: long('b', 100) } });
    expect(Buffer.byteLength(bounded)).toBeLessThanOrEqual(MAX_WATERMARK_BYTES);
    expect(decodeWatermark(bounded, ['org', 'dept'], 'department')).toEqual({ org: { t: T2, ids: [] }, dept: { t: T3, ids: long('b', 100) } });
  });
});
