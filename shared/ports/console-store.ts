/**
 * The operator console's state, in the one DynamoDB table beside the rest
 * (shared/adapters/aws/dynamo-console.store.ts; in-memory twin for use-case tests, both
 * passing test/contracts/console-store.contract.ts):
 *
 * - Sessions: a signed-in operator's server-side record, keyed by the SHA-256 of the
 *   session id (the cookie carries the id; a reader of the table cannot replay a hash).
 *   Deleting the record signs the browser out even while its cookie is still valid.
 * - The audit log: who did what, when, on which tenant, with what outcome. Append-only,
 *   newest first, kept a year.
 *
 * Same rules as state-stores.ts: bad input throws ValidationError and writes nothing;
 * expired items read as absent (the store checks the time itself).
 */
import { ValidationError } from '../errors/app-error';
import type { Page, PageOptions } from './store-common';

/** How someone signed in: the tenant identity they proved, or the deployment's break-glass link. */
export type OperatorSubject =
  | { kind: 'tenant'; tenantId: string; via: 'dingtalk' | 'wecom' | 'cas' | 'oa'; userId: string }
  | { kind: 'breakglass'; label: string };

export interface ConsoleSession {
  /** SHA-256 (hex) of the session id in the cookie. */
  idHash: string;
  subject: OperatorSubject;
  createdAt: number;
  /** Epoch ms; the session is gone from this instant. */
  expiresAt: number;
}

/** The tenant id under which deployment-wide actions (DLQ redrive, break-glass sign-in) are audited. */
export const DEPLOYMENT_SCOPE = '_deployment';

export interface AuditEntry {
  /** The tenant acted on, or DEPLOYMENT_SCOPE. */
  tenantId: string;
  at: number;
  /** Who: `dingtalk:manager4021@acme`, `breakglass:<label>`. */
  actor: string;
  /** What: `run.approve`, `sync.start`, `dlq.redrive`, `signin`... */
  action: string;
  /** On what: a run id, a queue name. */
  target?: string;
  outcome: 'ok' | 'refused' | 'failed';
  /** A short operator-safe note (an error code, the mode of a sync). */
  detail?: string;
}

export interface ConsoleStore {
  /** Store a new session. */
  putSession(session: ConsoleSession): Promise<void>;
  /** The live session with this id hash, or undefined (absent, expired or revoked). */
  getSession(idHash: string): Promise<ConsoleSession | undefined>;
  /** Revoke (sign out). @returns false when there was none. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Append one audit entry (kept AUDIT_TTL_SECONDS). */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** A tenant's (or DEPLOYMENT_SCOPE's) audit entries, newest first. */
  listAudit(tenantId: string, options?: PageOptions): Promise<Page<AuditEntry>>;
}

/** One year: long enough for a yearly access review. */
export const AUDIT_TTL_SECONDS = 365 * 24 * 3600;

const invalid = (m: string) => new ValidationError(m, { code: 'STATE.INVALID_INPUT' });

export function assertSession(s: ConsoleSession): void {
  if (!/^[0-9a-f]{64}$/.test(s.idHash)) throw invalid('idHash must be 64 hex characters');
  if (!Number.isFinite(s.createdAt) || !Number.isFinite(s.expiresAt) || s.expiresAt <= s.createdAt) throw invalid('expiresAt must follow createdAt');
  const sub = s.subject;
  if (sub.kind === 'tenant') {
    if (!['dingtalk', 'wecom', 'cas', 'oa'].includes(sub.via)) throw invalid('subject.via is not a sign-in method');
    if (typeof sub.tenantId !== 'string' || !sub.tenantId || typeof sub.userId !== 'string' || !sub.userId || sub.userId.length > 128) throw invalid('subject needs a tenant and a user id');
  } else if (sub.kind === 'breakglass') {
    if (typeof sub.label !== 'string' || !/^[\w.@-]{1,64}$/.test(sub.label)) throw invalid('subject.label must be 1-64 characters of letters, digits, _ . @ -');
  } else throw invalid('subject.kind must be tenant or breakglass');
}

export function assertAudit(e: AuditEntry): void {
  if (typeof e.tenantId !== 'string' || !e.tenantId || e.tenantId.length > 64) throw invalid('tenantId is required');
  if (!Number.isFinite(e.at) || e.at < 0) throw invalid('at must be epoch milliseconds');
  if (typeof e.actor !== 'string' || !e.actor || e.actor.length > 300) throw invalid('actor is required (at most 300 characters)');
  if (typeof e.action !== 'string' || !/^[a-z][a-z0-9._-]{0,63}$/.test(e.action)) throw invalid('action must be a short lower-case name');
  if (!['ok', 'refused', 'failed'].includes(e.outcome)) throw invalid('outcome must be ok, refused or failed');
  if (e.target !== undefined && (typeof e.target !== 'string' || e.target.length > 300)) throw invalid('target must be at most 300 characters');
  if (e.detail !== undefined && (typeof e.detail !== 'string' || e.detail.length > 1000)) throw invalid('detail must be at most 1000 characters');
}
