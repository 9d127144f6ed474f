/**
 * New-mail notification state, as a port: one mail watermark per mailbox and the people
 * who opted in to notifications. In AWS it lives in the single DynamoDB table
 * (shared/adapters/aws/dynamo-notify.store.ts, key layout documented there); tests use the
 * in-memory twin (shared/adapters/memory/memory-notify.store.ts). Both follow the rules of
 * shared/ports/store-common.ts: keyed by tenant, single-item conditional writes, bad input
 * is a ValidationError that writes nothing, store failures are StateStoreErrors.
 */
import { ValidationError } from '../errors/app-error';
import { SOURCE_KINDS, type SourceKind } from './store-common';
import { assertKeyPart, assertOneOf, assertTenant, assertTime } from './store-validation';

/** Most handled-mail identities kept on a watermark (older ones fall back to the OnceStore). */
export const MAX_RECENT_MAILS = 200;

/**
 * How far one mailbox's received-mail log has been handled.
 *
 * - `since`: when the mailbox was first checked (ms). Mail sent before it is never
 *   notified: a person who joins (or a tenant that switches notifications on) is not
 *   flooded with old mail.
 * - `until`: every log entry up to this instant (ms) was looked at and either notified,
 *   deduplicated or refused for good. Only moves forward, and only after the person's
 *   sends succeeded.
 * - `recent`: identities (hashes) of mails handled near `until`, so entries the next
 *   poll reads again (it re-reads a short overlap) are skipped without a store call.
 */
export interface MailWatermark {
  tenantId: string;
  /** NetEase account name (local part), lower-cased: account names compare case-insensitively. */
  account: string;
  since: number;
  until: number;
  recent: Array<{ id: string; at: number }>;
  updatedAt: number;
}

export type MailWatermarkWrite = Omit<MailWatermark, 'updatedAt'>;

/** A person who asked for new-mail notifications (tenants without the tenant-wide switch). */
export interface NotifyOptIn {
  tenantId: string;
  source: SourceKind;
  /** The person's source id (DingTalk userid / WeCom UserID). */
  sourceId: string;
  /** When they opted in (ms). */
  at: number;
  /** Who recorded it (admin principal, CLI user), when known. */
  by?: string;
}

export interface NotifyStore {
  /**
   * The watermarks of these mailboxes (strongly consistent), keyed by lower-cased account
   * name. An account without one was never checked.
   */
  getWatermarks(tenantId: string, accounts: readonly string[]): Promise<Map<string, MailWatermark>>;
  /**
   * Store a mailbox's watermark unless the stored one is further on (`until` never moves
   * backwards; an equal `until` refreshes `recent`).
   * @returns true when stored; false when a later watermark is kept.
   */
  putWatermark(write: MailWatermarkWrite): Promise<boolean>;
  /** Opt a person in (`optedIn` true) or out (false: the record is removed). Idempotent. */
  setOptIn(tenantId: string, source: SourceKind, sourceId: string, optedIn: boolean, by?: string): Promise<void>;
  /** Every opted-in person of a tenant and source, page by page. */
  listOptIns(tenantId: string, source: SourceKind, options?: { pageSize?: number }): AsyncIterable<NotifyOptIn>;
}

const invalid = (message: string) => new ValidationError(message, { code: 'STATE.INVALID_INPUT' });

/** The key form of an account name: lower-cased, validated as a key part. */
export function watermarkAccount(account: string): string {
  assertKeyPart('account', account, 128);
  if (account.includes('@')) throw invalid('account must be a NetEase account name (local part, no @)');
  return account.toLowerCase();
}

/** Validate a watermark write; shared so both stores refuse exactly the same input. */
export function assertWatermarkWrite(w: MailWatermarkWrite): void {
  assertTenant(w.tenantId);
  watermarkAccount(w.account);
  assertTime('since', w.since);
  assertTime('until', w.until);
  if (w.until < w.since) throw invalid('until must not be before since');
  if (!Array.isArray(w.recent) || w.recent.length > MAX_RECENT_MAILS) throw invalid(`recent must be an array of at most ${MAX_RECENT_MAILS} entries`);
  for (const r of w.recent) {
    if (typeof r?.id !== 'string' || !/^[0-9a-f]{8,64}$/.test(r.id)) throw invalid('recent ids must be 8-64 lowercase hex characters');
    assertTime('recent.at', r.at);
  }
}

export function assertOptInKey(tenantId: string, source: SourceKind, sourceId: string): void {
  assertTenant(tenantId);
  assertOneOf('source', source, SOURCE_KINDS);
  assertKeyPart('sourceId', sourceId);
}
