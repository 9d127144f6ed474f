/**
 * The key layout of every item in the single table (table-definition.ts), in one place.
 *
 * Every id that enters a key goes through `esc()`: `%` -> `%25` and `#` -> `%23`, so `#` only
 * ever appears as our separator and a source id such as `a#b` cannot collide with the key
 * of id `a` in another position (the mapping `x` / `y#z` vs `x#y` / `z` problem). Fixed
 * words (`MAP`, `person`, `ekp`...) come from closed sets and are not escaped.
 *
 * | item                 | pk                                 | sk                                   | gsi1pk                              | gsi1sk                              | expiresAt (s)        |
 * |----------------------|------------------------------------|--------------------------------------|-------------------------------------|-------------------------------------|----------------------|
 * | mapping              | T#{t}#MAP#{source}#{type}          | {sourceId}                           | T#{t}#NE#{type}                     | {neteaseId*}#{source}#{sourceId}    | -                    |
 * | watermark            | T#{t}#WM                           | {source}#{type}                      | -                                   | -                                   | -                    |
 * | run                  | T#{t}#RUN                          | {runId}  (time-sortable)             | RUN#{runId}                         | T#{t}                               | -                    |
 * | per-object result    | T#{t}#RES#{runId}                  | {type}#{sourceId}#{operation}        | T#{t}#OBJ#{type}#{sourceId}         | {runId}#{operation}                 | at + ttl (30 d)      |
 * | lock                 | T#{t}#LOCK                         | {name}                               | -                                   | -                                   | leaseUntil + 1 d (GC)|
 * | once (nonce/event/op)| T#{t}#ONCE#{namespace}             | {key}                                | -                                   | -                                   | claim/result ttl     |
 * | cache                | T#{t}#CACHE#{namespace}            | {key}                                | -                                   | -                                   | ttl                  |
 * | plan batch           | T#{t}#PLAN#{runId}                 | B#{seq, 6 digits}                    | -                                   | -                                   | ttl (30 d)           |
 * | plan document header | T#{t}#PLAN#{runId}                 | D#{name}                             | -                                   | -                                   | ttl (30 d)           |
 * | plan document chunk  | T#{t}#PLAN#{runId}                 | D#{name}#{writeId}#{index, 5 digits} | -                                   | -                                   | ttl (30 d)           |
 * | usage counter        | T#{t}#USAGE#{yyyy-MM}              | C#{vendor}#{api}                     | -                                   | -                                   | month end + 400 d    |
 * | quota exhaustion     | T#{t}#USAGE#{yyyy-MM}              | Q#{vendor}                           | -                                   | -                                   | month end + 400 d    |
 * | console session      | CONSOLE#SESSION                    | {sha256 of the session id}           | -                                   | -                                   | session expiry       |
 * | console audit entry  | T#{t}#AUDIT                        | {at, 15 digits}#{random}             | -                                   | -                                   | at + 1 year          |
 *
 * `{neteaseId*}` is lower-cased for people (account names compare case-insensitively) and
 * exact for units. Partitions are chosen so the hot reads are one Query each: the planner's
 * loadAll reads two partitions (people, departments) of one tenant and source; `runs list`
 * reads one partition backwards; `runs show` reads one run's results partition.
 *
 * Lock items carry `expiresAt` only for garbage collection: the lease itself is
 * `leaseUntil` in milliseconds, checked in the condition.
 */
import type { DirectoryObjectType } from '../../domain/directory';
import type { SourceKind } from '../../ports/store-common';

/** Escape an id for use inside a key: `#` is our separator, `%` the escape character. */
export function esc(id: string): string {
  return id.replace(/%/g, '%25').replace(/#/g, '%23');
}

/** Inverse of esc(). */
export function unesc(part: string): string {
  return part.replace(/%23/g, '#').replace(/%25/g, '%');
}

export interface ItemKey {
  pk: string;
  sk: string;
}

const t = (tenantId: string) => `T#${esc(tenantId)}`;

export const keys = {
  // --- mappings --------------------------------------------------------------------------
  mappingPartition: (tenantId: string, source: SourceKind, type: DirectoryObjectType) => `${t(tenantId)}#MAP#${source}#${type}`,
  mapping: (tenantId: string, source: SourceKind, type: DirectoryObjectType, sourceId: string): ItemKey => ({
    pk: keys.mappingPartition(tenantId, source, type),
    sk: esc(sourceId),
  }),
  /** Reverse index partition: one per tenant and object type, across sources. */
  mappingReversePartition: (tenantId: string, type: DirectoryObjectType) => `${t(tenantId)}#NE#${type}`,
  /** Reverse index sort key; `lookupId` is neteaseLookupId() (lower-cased for people). */
  mappingReverseSort: (lookupId: string, source: SourceKind, sourceId: string) => `${esc(lookupId)}#${source}#${esc(sourceId)}`,
  /** Prefix of every reverse sort key for one NetEase id (optionally one source). */
  mappingReversePrefix: (lookupId: string, source?: SourceKind) => (source ? `${esc(lookupId)}#${source}#` : `${esc(lookupId)}#`),

  // --- watermarks ------------------------------------------------------------------------
  watermarkPartition: (tenantId: string) => `${t(tenantId)}#WM`,
  watermark: (tenantId: string, source: SourceKind, type: DirectoryObjectType): ItemKey => ({
    pk: keys.watermarkPartition(tenantId),
    sk: `${source}#${type}`,
  }),

  // --- runs and results ------------------------------------------------------------------
  runPartition: (tenantId: string) => `${t(tenantId)}#RUN`,
  /** Run ids are validated (isRunId: no `#`), escaped anyway for uniformity. */
  run: (tenantId: string, runId: string): ItemKey => ({ pk: keys.runPartition(tenantId), sk: esc(runId) }),
  runIndex: (tenantId: string, runId: string) => ({ gsi1pk: `RUN#${esc(runId)}`, gsi1sk: t(tenantId) }),
  runIndexPartition: (runId: string) => `RUN#${esc(runId)}`,
  resultPartition: (tenantId: string, runId: string) => `${t(tenantId)}#RES#${esc(runId)}`,
  result: (tenantId: string, runId: string, type: DirectoryObjectType, sourceId: string, operation: string): ItemKey => ({
    pk: keys.resultPartition(tenantId, runId),
    sk: `${type}#${esc(sourceId)}#${esc(operation)}`,
  }),
  resultIndexPartition: (tenantId: string, type: DirectoryObjectType, sourceId: string) => `${t(tenantId)}#OBJ#${type}#${esc(sourceId)}`,
  resultIndex: (tenantId: string, runId: string, type: DirectoryObjectType, sourceId: string, operation: string) => ({
    gsi1pk: keys.resultIndexPartition(tenantId, type, sourceId),
    gsi1sk: `${esc(runId)}#${esc(operation)}`,
  }),

  // --- locks, once, cache ----------------------------------------------------------------
  lock: (tenantId: string, name: string): ItemKey => ({ pk: `${t(tenantId)}#LOCK`, sk: esc(name) }),
  once: (tenantId: string, namespace: string, key: string): ItemKey => ({ pk: `${t(tenantId)}#ONCE#${esc(namespace)}`, sk: esc(key) }),
  cache: (tenantId: string, namespace: string, key: string): ItemKey => ({ pk: `${t(tenantId)}#CACHE#${esc(namespace)}`, sk: esc(key) }),

  // --- console (sessions, audit log) -----------------------------------------------------
  consoleSession: (idHash: string): ItemKey => ({ pk: 'CONSOLE#SESSION', sk: idHash }),
  auditPartition: (tenantId: string) => `${t(tenantId)}#AUDIT`,
  audit: (tenantId: string, at: number, suffix: string): ItemKey => ({ pk: keys.auditPartition(tenantId), sk: `${String(at).padStart(15, '0')}#${suffix}` }),

  // --- plans -----------------------------------------------------------------------------
  planPartition: (tenantId: string, runId: string) => `${t(tenantId)}#PLAN#${esc(runId)}`,
  planBatch: (tenantId: string, runId: string, seq: number): ItemKey => ({
    pk: keys.planPartition(tenantId, runId),
    sk: `B#${String(seq).padStart(6, '0')}`,
  }),
  planBatchPrefix: 'B#',
  planDocument: (tenantId: string, runId: string, name: string): ItemKey => ({ pk: keys.planPartition(tenantId, runId), sk: `D#${esc(name)}` }),
  planChunkPrefix: (name: string, writeId: string) => `D#${esc(name)}#${writeId}#`,
  planChunk: (tenantId: string, runId: string, name: string, writeId: string, index: number): ItemKey => ({
    pk: keys.planPartition(tenantId, runId),
    sk: `${keys.planChunkPrefix(name, writeId)}${String(index).padStart(5, '0')}`,
  }),

  // --- vendor API usage (ports/usage-meter.ts) -------------------------------------------
  usagePartition: (tenantId: string, month: string) => `${t(tenantId)}#USAGE#${month}`,
  usageCounter: (tenantId: string, month: string, vendor: string, api: string): ItemKey => ({ pk: keys.usagePartition(tenantId, month), sk: `C#${vendor}#${esc(api)}` }),
  usageCounterPrefix: 'C#',
  usageExhaustion: (tenantId: string, month: string, vendor: string): ItemKey => ({ pk: keys.usagePartition(tenantId, month), sk: `Q#${vendor}` }),
};
