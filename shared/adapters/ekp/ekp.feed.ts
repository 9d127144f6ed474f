/**
 * Draining EKP's alterTime feed without losing or duplicating rows (reference
 * sync-and-ekp.md §A6), and the watermarks that remember where a drain ended.
 *
 * The trap: the query is `fdAlterTime > :begin ORDER BY fdAlterTime`, strictly greater.
 * The v16.0.5+ server stops a page exactly at `count` rows (after raising `count` to at
 * least 10000) and answers the last row's alterTime as `timeStamp`. When several rows
 * share that millisecond and the cut falls among them, the documented loop
 * ("next begin = timeStamp") skips the rest of them for good.
 *
 * What we do instead, per element type (one `returnOrgType` per call, so a cut inside
 * one type can never skip another type, §A6 risk b):
 *
 * 1. Inclusive re-read. The next page starts at `lastAlterTime - 1 ms`. Because EKP keeps
 *    millisecond precision, `> last - 1ms` is the same as `>= last`: every row of the cut
 *    millisecond comes back, the ones we already have and the ones the cut dropped.
 * 2. De-duplication by (id, alterTime). A row we already took has the same id *and* the
 *    same alterTime, so it is skipped; a row that changed meanwhile has a later alterTime,
 *    so it is a new key and is taken, and the latest version per id wins.
 * 3. Ties larger than a page. If a full page brings nothing new (all of it is the tied
 *    millisecond we re-read), the cursor cannot move, so the next request doubles `count`
 *    until the whole tie fits (up to `maxPageSize`, then a clear error instead of a loop).
 * 4. End of feed: a page with fewer rows than requested (the documented stop rule).
 * 5. The watermark kept between runs is the newest alterTime seen plus the ids seen at
 *    exactly that millisecond. The next run starts with the same inclusive re-read and
 *    pre-seeds the de-duplication with those ids, so an unchanged row at the watermark is
 *    not reported again, while a row that landed in that millisecond after the run is.
 *    If very many rows share the watermark millisecond we keep none of their ids
 *    (`ids` capped): those rows are then reported once more, which the idempotent
 *    upserts downstream absorb.
 * 6. The stored watermark is bounded: MAX_WATERMARK_IDS per cursor, and the encoded value of
 *    a group (the department watermark packs two cursors) at most MAX_WATERMARK_BYTES, the
 *    WatermarkStore's limit. A group that would exceed it (ids far longer than EKP's 32-hex
 *    fdIds) forgets the ids of its largest cursor, with the same cost as (5): a re-read.
 */
import { UpstreamError, ValidationError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import { MAX_WATERMARK_BYTES } from '../../ports/store-common';
import type { EkpClient } from './ekp.client';
import { normalizeEkpTime, oneMsBefore } from './ekp-time';
import type { EkpElement, EkpOrgType } from './ekp.schema';

/** Where a drain of one element type ended. */
export interface FeedCursor {
  /** Newest alterTime seen, canonical `yyyy-MM-dd HH:mm:ss.SSS`. */
  t: string;
  /** Ids seen with exactly that alterTime (empty when capped). */
  ids: string[];
}

/**
 * Most ids remembered at the watermark millisecond; beyond it they are re-read once. An
 * fdId (32 hex) costs 35 bytes of JSON, so two full cursors (the department group: org and
 * dept) take about 28 KB, inside the store's MAX_WATERMARK_BYTES (32 KB).
 */
export const MAX_WATERMARK_IDS = 400;

export interface DrainOptions {
  /** Rows asked per call (the tenant's ekp.pageSize). */
  pageSize: number;
  /** Largest `count` to ask when a tie fills whole pages; default 100000. */
  maxPageSize?: number;
  /** Hard stop against a feed that never ends; default 1,000,000 calls. */
  maxCalls?: number;
  logger?: Logger;
}

export interface DrainResult {
  /** The latest version of every row seen, oldest alterTime first. */
  records: EkpElement[];
  /** Undefined only when nothing was ever seen (no start cursor, empty feed). */
  cursor: FeedCursor | undefined;
  calls: number;
}

/**
 * Read every row of one type with alterTime at or after `from.t` (all rows when `from` is
 * undefined), skipping the (id, alterTime) pairs `from.ids` says were already taken.
 * Throws on any failed call: a drain is all or nothing.
 */
export async function drainFeed(client: Pick<EkpClient, 'getUpdatedElements'>, type: EkpOrgType, from: FeedCursor | undefined, opts: DrainOptions): Promise<DrainResult> {
  const maxPageSize = Math.max(opts.pageSize, opts.maxPageSize ?? 100_000);
  const maxCalls = opts.maxCalls ?? 1_000_000;
  const seen = new Set<string>();
  const latest = new Map<string, EkpElement>();
  let newestT = from?.t;
  let idsAtNewest = new Set<string>(from?.ids ?? []);
  let capped = false;
  if (from) for (const id of from.ids) seen.add(key(id, from.t));

  let begin = from ? oneMsBefore(from.t) : undefined;
  let count = opts.pageSize;
  let calls = 0;
  for (;;) {
    if (calls >= maxCalls) throw new UpstreamError('ekp', 'EKP.FEED_RUNAWAY', `ekp: ${type} feed did not end after ${calls} calls`, { retryable: false });
    const page = await client.getUpdatedElements({ types: [type], count, beginTimeStamp: begin });
    calls++;
    let fresh = 0;
    let last: string | undefined;
    for (const r of page.records) {
      if (r.type !== type) continue; // defensive: we asked for one type only
      last = last === undefined || r.alterTime > last ? r.alterTime : last;
      const k = key(r.id, r.alterTime);
      if (seen.has(k)) continue;
      seen.add(k);
      fresh++;
      const prev = latest.get(r.id);
      if (!prev || prev.alterTime <= r.alterTime) latest.set(r.id, r);
      if (newestT === undefined || r.alterTime > newestT) {
        newestT = r.alterTime;
        idsAtNewest = new Set([r.id]);
        capped = false;
      } else if (r.alterTime === newestT && !capped) {
        idsAtNewest.add(r.id);
        if (idsAtNewest.size > MAX_WATERMARK_IDS) {
          capped = true;
          idsAtNewest = new Set();
        }
      }
    }
    opts.logger?.debug('ekp feed page', { type, rows: page.records.length, fresh, count });
    // Documented end of feed: fewer rows than asked. (Older servers may return *more*
    // than asked, running to the end of a millisecond; that is simply another full page.)
    if (page.records.length < count || last === undefined) break;
    const next = oneMsBefore(last);
    if (fresh === 0 || next === begin) {
      // A full page of one millisecond we had already re-read: the tie is at least a
      // page long. Ask for more rows from the same place.
      if (count >= maxPageSize) {
        throw new UpstreamError('ekp', 'EKP.TIE_TOO_LARGE', `ekp: more than ${maxPageSize} ${type} rows share alterTime ${last}; raise maxPageSize or use a full reconcile`, { retryable: false });
      }
      count = Math.min(count * 2, maxPageSize);
      opts.logger?.info('ekp feed tie fills a page, widening', { type, alterTime: last, count });
    } else {
      count = opts.pageSize;
    }
    begin = next;
  }

  const records = [...latest.values()].sort((a, b) => (a.alterTime < b.alterTime ? -1 : a.alterTime > b.alterTime ? 1 : 0));
  const cursor = newestT === undefined ? undefined : { t: newestT, ids: capped ? [] : [...idsAtNewest].sort() };
  return { records, cursor, calls };
}

function key(id: string, alterTime: string): string {
  return `${id}\u0000${alterTime}`;
}

// ---------------------------------------------------------------------------------------
// Watermarks. The port keys them by neutral type ('department', 'person') and treats them
// as opaque strings; ours pack one cursor per EKP type of the group:
//   department -> {"v":1,"org":{t,ids},"dept":{t,ids}}   person -> {"v":1,"person":{t,ids}}
// A bare EKP timestamp ("2024-05-01 08:00:00.000") is accepted too, for every type of the
// group, so an operator can rewind a tenant by hand (the manual's "clear the watermark").
// ---------------------------------------------------------------------------------------

export type CursorSet = Partial<Record<EkpOrgType, FeedCursor>>;

/**
 * The stored form of a group of cursors, at most `maxBytes` (UTF-8) long: while it is longer,
 * the cursor with the most ids forgets them (see the module doc, 6). The timestamps always fit
 * (a few dozen bytes each).
 */
export function encodeWatermark(cursors: CursorSet, maxBytes: number = MAX_WATERMARK_BYTES): string {
  const out: Record<string, { t: string; ids: string[] }> = {};
  for (const [type, c] of Object.entries(cursors)) if (c) out[type] = { t: c.t, ids: c.ids.slice(0, MAX_WATERMARK_IDS) };
  for (;;) {
    const json = JSON.stringify({ v: 1, ...out });
    if (Buffer.byteLength(json, 'utf8') <= maxBytes) return json;
    const largest = Object.values(out).reduce<{ t: string; ids: string[] } | undefined>((a, c) => (!a || c.ids.length > a.ids.length ? c : a), undefined);
    if (!largest || largest.ids.length === 0) return json; // cannot happen for real timestamps; the store refuses it then
    largest.ids = [];
  }
}

/** Decode a watermark for the given types; undefined/empty means "from the beginning". */
export function decodeWatermark(value: string | undefined, types: readonly EkpOrgType[], label: string): CursorSet {
  if (value === undefined || value.trim() === '') return {};
  const bare = normalizeEkpTime(value);
  if (bare) return Object.fromEntries(types.map((t) => [t, { t: bare, ids: [] }]));
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw badWatermark(label, 'is neither an EKP timestamp nor JSON');
  }
  if (!doc || typeof doc !== 'object' || (doc as { v?: unknown }).v !== 1) throw badWatermark(label, 'has no version 1 marker');
  const out: CursorSet = {};
  for (const type of types) {
    const c = (doc as Record<string, unknown>)[type];
    if (c === undefined) continue;
    const t = c && typeof c === 'object' ? (c as { t?: unknown }).t : undefined;
    const ids = c && typeof c === 'object' ? (c as { ids?: unknown }).ids : undefined;
    const norm = typeof t === 'string' ? normalizeEkpTime(t) : undefined;
    if (!norm || !Array.isArray(ids) || !ids.every((i) => typeof i === 'string')) throw badWatermark(label, `has an invalid "${type}" cursor`);
    out[type] = { t: norm, ids: ids as string[] };
  }
  return out;
}

function badWatermark(label: string, why: string): ValidationError {
  return new ValidationError(`EKP ${label} watermark ${why}`, { code: 'EKP.BAD_WATERMARK' });
}
