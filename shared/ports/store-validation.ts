/**
 * Validation and time rules both store implementations share (so their answers are
 * identical): bad input throws ValidationError (STATE.INVALID_INPUT) and writes nothing.
 */
import type { DirectoryObjectType } from '../domain/directory';
import { ValidationError } from '../errors/app-error';
import { MAPPING_STATUSES, type MappingExpectation, type MappingKey, type MappingWrite } from './mapping-store';
import { type NewRun, type ObjectResultWrite, RESULT_OUTCOMES, RUN_COUNT_KEYS, RUN_MODES, RUN_STATUSES, RUN_TRIGGERS, type RunCounts, type RunPatch, type RunStatus, isRunId } from './run-store';
import { ConflictError, MAX_SUMMARY_BYTES, MAX_VALUE_BYTES, OBJECT_TYPES, SOURCE_KINDS } from './store-common';

// ---------------------------------------------------------------------------------------
// Rules both implementations share (so their answers are identical)
// ---------------------------------------------------------------------------------------

const invalid = (message: string) => new ValidationError(message, { code: 'STATE.INVALID_INPUT' });

/** A page cursor of a store's partition: opaque to callers, refused by any other partition. */
export function encodePageCursor(partition: string, lastKey: unknown): string {
  return Buffer.from(JSON.stringify({ p: partition, k: lastKey }), 'utf8').toString('base64url');
}

/**
 * The last key a cursor of `partition` carries, checked with `isKey` (each store knows its key
 * shape). Anything else (not base64url JSON, another partition's cursor, a forged key) throws
 * ValidationError STATE.BAD_CURSOR.
 */
export function decodePageCursor<K>(partition: string, cursor: string, isKey: (k: unknown) => k is K): K {
  const bad = () => new ValidationError('invalid or foreign page cursor', { code: 'STATE.BAD_CURSOR' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const { p, k } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { p?: unknown; k?: unknown };
  if (p !== partition || !isKey(k)) throw bad();
  return k;
}

/** `expiresAt` (epoch s) for something that must live at least `ttlSeconds` from `nowMs`. */
export function expiresAtFor(nowMs: number, ttlSeconds: number): number {
  return Math.ceil(nowMs / 1000) + ttlSeconds;
}

/** Epoch seconds used in expiry conditions: an item is gone when `expiresAt <= nowSeconds(now)`. */
export function nowSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** True when an item with this `expiresAt` must be treated as absent. */
export function isExpired(expiresAt: number | undefined, nowMs: number): boolean {
  return expiresAt !== undefined && expiresAt <= nowSeconds(nowMs);
}

/**
 * Ids that become key parts: non-empty, at most `maxBytes` UTF-8 bytes, no control characters.
 * The default (160) keeps the longest composite key within DynamoDB's 1,024-byte sort-key
 * limit even when every character of two ids needs escaping (x3): gsi1sk of a mapping is
 * `{neteaseId}#{source}#{sourceId}`. Real ids are far shorter (EKP fdId 32, DingTalk and
 * WeCom ids ≤ 64, NetEase account names ≤ 64).
 */
export function assertKeyPart(label: string, value: unknown, maxBytes = 160): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${label} must be a non-empty string`);
  if (Buffer.byteLength(value, 'utf8') > maxBytes) throw invalid(`${label} is longer than ${maxBytes} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalid(`${label} contains control characters`);
}

export function assertTenant(tenantId: unknown): asserts tenantId is string {
  assertKeyPart('tenantId', tenantId, 128);
}

/** Namespaces, lock names and operation names: short identifiers. */
export function assertName(label: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) throw invalid(`${label} must be 1-64 characters of A-Z a-z 0-9 _ . : -`);
}

export function assertOneOf<T extends string>(label: string, value: unknown, allowed: readonly T[]): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(`${label} must be one of ${allowed.join(', ')}`);
}

export function assertRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string' || !isRunId(runId)) throw invalid('runId must come from newRunId() (YYYYMMDDTHHMMSSmmmZ-suffix)');
}

export function assertPositiveInt(label: string, value: unknown, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) throw invalid(`${label} must be an integer from 1 to ${max}`);
}

export function assertTime(label: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(`${label} must be epoch milliseconds`);
}

/** Serialize a value stored as JSON, refusing what cannot round-trip or is too large. */
export function toJson(label: string, value: unknown, maxBytes = MAX_VALUE_BYTES): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new ValidationError(`${label} is not serializable to JSON`, { code: 'STATE.INVALID_INPUT', cause: err });
  }
  if (json === undefined) throw invalid(`${label} is not a JSON value`);
  if (Buffer.byteLength(json, 'utf8') > maxBytes) throw new ValidationError(`${label} is larger than ${maxBytes} bytes of JSON`, { code: 'STATE.TOO_LARGE' });
  return json;
}

export function assertPageLimit(limit: number | undefined): number {
  if (limit === undefined) return 100;
  assertPositiveInt('limit', limit, 1000);
  return limit;
}

/** Validate a mapping write; shared so both stores refuse exactly the same input. */
export function assertMappingWrite(w: MappingWrite): void {
  assertMappingKey(w);
  assertKeyPart('neteaseId', w.neteaseId);
  if (typeof w.contentHash !== 'string') throw invalid('contentHash must be a string');
  if (Buffer.byteLength(w.contentHash) > 256) throw invalid('contentHash is longer than 256 bytes');
  assertOneOf('status', w.status, MAPPING_STATUSES);
  if (w.suspendedAt !== undefined) assertTime('suspendedAt', w.suspendedAt);
  if (w.adopted !== undefined && typeof w.adopted !== 'boolean') throw invalid('adopted must be a boolean');
  assertKeyPart('lastRunId', w.lastRunId, 128);
  if (w.meta !== undefined) {
    if (typeof w.meta !== 'object' || w.meta === null || Array.isArray(w.meta)) throw invalid('meta must be an object of strings');
    for (const [k, v] of Object.entries(w.meta)) if (typeof v !== 'string') throw invalid(`meta.${k} must be a string`);
    toJson('meta', w.meta, 4096);
  }
}

export function assertMappingKey(k: MappingKey): void {
  assertTenant(k.tenantId);
  assertOneOf('source', k.source, SOURCE_KINDS);
  assertOneOf('objectType', k.objectType, OBJECT_TYPES);
  assertKeyPart('sourceId', k.sourceId);
}

export function assertExpectation(e: MappingExpectation | undefined): void {
  if (!e) return;
  if (e.version !== undefined && (!Number.isInteger(e.version) || e.version < 0)) throw invalid('expected.version must be an integer >= 0');
  if (e.contentHash !== undefined && typeof e.contentHash !== 'string') throw invalid('expected.contentHash must be a string');
}

/** NetEase ids in the reverse index: account names compare case-insensitively. */
export function neteaseLookupId(objectType: DirectoryObjectType, neteaseId: string): string {
  return objectType === 'person' ? neteaseId.toLowerCase() : neteaseId;
}

export function assertCounts(deltas: Partial<RunCounts>): void {
  if (typeof deltas !== 'object' || deltas === null) throw invalid('counts must be an object');
  for (const [k, v] of Object.entries(deltas)) {
    if (!(RUN_COUNT_KEYS as readonly string[]).includes(k)) throw invalid(`unknown counter "${k}"`);
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`counter "${k}" must be an integer`);
  }
}

export function assertNewRun(run: NewRun): void {
  assertRunId(run.runId);
  assertTenant(run.tenantId);
  if (run.source !== undefined) assertOneOf('source', run.source, SOURCE_KINDS);
  assertOneOf('trigger', run.trigger, RUN_TRIGGERS);
  assertOneOf('mode', run.mode, RUN_MODES);
  if (typeof run.dryRun !== 'boolean') throw invalid('dryRun must be a boolean');
  assertTime('startedAt', run.startedAt);
  if (run.status !== undefined) assertOneOf('status', run.status, RUN_STATUSES);
  if (run.requestId !== undefined) assertName('requestId', run.requestId);
}

/** Checks a RunStore.objectHistory query; answers its limit (20 unless given, at most 1000). */
export function assertHistoryQuery(tenantId: string, objectType: DirectoryObjectType, sourceId: string, limit = 20): number {
  assertTenant(tenantId);
  assertOneOf('objectType', objectType, OBJECT_TYPES);
  assertKeyPart('sourceId', sourceId);
  assertPositiveInt('limit', limit, 1000);
  return limit;
}

/** Checks a RunStore.transition's input; answers the allowed current statuses as a list. */
export function assertTransition(tenantId: string, runId: string, from: RunStatus | readonly RunStatus[], to: RunStatus, patch: RunPatch): readonly RunStatus[] {
  assertTenant(tenantId);
  assertRunId(runId);
  const fromList: readonly RunStatus[] = typeof from === 'string' ? [from] : from;
  if (fromList.length === 0) throw invalid('a transition needs at least one allowed current status');
  for (const f of fromList) assertOneOf('from', f, RUN_STATUSES);
  assertOneOf('to', to, RUN_STATUSES);
  assertRunPatch(patch);
  return fromList;
}

/** The answer of a transition whose run is in none of the allowed statuses. */
export function runStatusConflict(runId: string, status: unknown, expected: readonly RunStatus[], to: RunStatus): ConflictError {
  return new ConflictError(`run ${runId} is ${String(status)}, not ${expected.join(' or ')}`, {
    code: 'STATE.RUN_STATUS_CONFLICT',
    details: { runId, status, expected, to },
  });
}

export function assertRunPatch(patch: RunPatch): void {
  if (patch.endedAt !== undefined) assertTime('endedAt', patch.endedAt);
  if (patch.totalBatches !== undefined && (!Number.isInteger(patch.totalBatches) || patch.totalBatches < 0)) throw invalid('totalBatches must be an integer >= 0');
  if (patch.summary !== undefined) toJson('summary', patch.summary, MAX_SUMMARY_BYTES);
  if (patch.error !== undefined && (typeof patch.error.code !== 'string' || typeof patch.error.message !== 'string')) throw invalid('error must be {code, message}');
  if (patch.decision !== undefined) {
    assertOneOf('decision.decision', patch.decision.decision, ['approved', 'rejected'] as const);
    assertKeyPart('decision.by', patch.decision.by, 256);
    assertTime('decision.at', patch.decision.at);
  }
  if (patch.recovery !== undefined) {
    const r = patch.recovery;
    if (!Number.isInteger(r.takeovers) || r.takeovers < 1) throw invalid('recovery.takeovers must be an integer >= 1');
    assertTime('recovery.at', r.at);
    assertOneOf('recovery.action', r.action, ['resent', 'finalized'] as const);
    if (r.resent !== undefined && (!Number.isInteger(r.resent) || r.resent < 0)) throw invalid('recovery.resent must be an integer >= 0');
  }
}

export function assertResultWrite(r: ObjectResultWrite): void {
  assertTenant(r.tenantId);
  assertRunId(r.runId);
  assertOneOf('objectType', r.objectType, OBJECT_TYPES);
  assertKeyPart('sourceId', r.sourceId);
  assertName('operation', r.operation);
  assertOneOf('outcome', r.outcome, RESULT_OUTCOMES);
  assertTime('at', r.at);
  if (r.errorCode !== undefined && typeof r.errorCode !== 'string') throw invalid('errorCode must be a string');
  if (r.message !== undefined && (typeof r.message !== 'string' || r.message.length > 2000)) throw invalid('message must be a string of at most 2000 characters');
  if (r.neteaseId !== undefined) assertKeyPart('neteaseId', r.neteaseId);
}

/** TTLs accepted by the stores: 1 second to 400 days. */
export function assertTtlSeconds(ttlSeconds: unknown): asserts ttlSeconds is number {
  assertPositiveInt('ttlSeconds', ttlSeconds, 400 * 24 * 3600);
}

export function assertSeq(seq: unknown): asserts seq is number {
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > 999_999) throw invalid('seq must be an integer from 0 to 999999');
}
