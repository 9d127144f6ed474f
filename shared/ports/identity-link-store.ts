/**
 * IdentityLinkStore: which source person a channel user is (shared/domain/identity-match.ts),
 * stored both ways: by channel user (sign-in, notices) and by person (`links explain`).
 * Implemented by adapters/aws/dynamo-link.store.ts and adapters/memory/memory-link.store.ts;
 * both pass test/contracts/identity-link-store.contract.ts.
 *
 * A link never creates, changes or deletes a mailbox: it only says whose mailbox mapping
 * (MappingStore, by the person's source id) a channel user may use. A link to a person who
 * left is inert because that person's mapping is suspended or deleted.
 */
import { ValidationError } from '../errors/app-error';

export type LinkStatus = 'linked' | 'ambiguous' | 'unmatched';
export const LINK_STATUSES: readonly LinkStatus[] = ['linked', 'ambiguous', 'unmatched'];

export interface IdentityLinkWrite {
  tenantId: string;
  /** The tenant's channel id (`dingtalk`, `wecom` or a `channels[].id`). */
  channelId: string;
  /** DingTalk userid / WeCom UserID. */
  channelUserId: string;
  status: LinkStatus;
  /** The source person's id (EKP fdId...), for status `linked` only. */
  personId?: string;
  /** The rule that decided (`jobNumber`, `import`...); absent for unmatched. */
  rule?: string;
  /** Ambiguous: the source people the rule found (at most 10 kept). */
  candidates?: string[];
  /** Where the link came from: the daily pull, a contact callback, or an admin import. */
  origin: 'pull' | 'callback' | 'import';
}

export interface IdentityLink extends IdentityLinkWrite {
  updatedAt: number;
}

export interface IdentityLinkStore {
  /** The link of one channel user (strongly consistent), or undefined. */
  get(tenantId: string, channelId: string, channelUserId: string): Promise<IdentityLink | undefined>;
  /** Create or replace the link of one channel user. */
  put(write: IdentityLinkWrite): Promise<IdentityLink>;
  /** Forget a channel user (they left the channel). @returns false when there was none. */
  delete(tenantId: string, channelId: string, channelUserId: string): Promise<boolean>;
  /** Every link of one channel, in channel user id order. */
  list(tenantId: string, channelId: string): AsyncIterable<IdentityLink>;
  /**
   * Every `linked` link pointing at one source person, any channel. Eventually consistent in
   * AWS (an index read): a link written a moment ago may be missing.
   */
  listByPerson(tenantId: string, personId: string): Promise<IdentityLink[]>;
}

const ID = /^[^\u0000-\u001f\u007f]{1,256}$/;
const MAX_CANDIDATES = 10;

/** Bad input throws a ValidationError and writes nothing. */
export function assertLinkWrite(w: IdentityLinkWrite): IdentityLinkWrite {
  const bad = (why: string) => new ValidationError(`identity link: ${why}`, { code: 'STATE.INVALID_INPUT' });
  for (const [k, v] of [['tenantId', w.tenantId], ['channelId', w.channelId], ['channelUserId', w.channelUserId]] as const) {
    if (typeof v !== 'string' || !ID.test(v)) throw bad(`${k} must be 1-256 printable characters`);
  }
  if (!LINK_STATUSES.includes(w.status)) throw bad(`status must be one of ${LINK_STATUSES.join(', ')}`);
  if (w.status === 'linked' && (typeof w.personId !== 'string' || !ID.test(w.personId))) throw bad('a linked user needs a personId');
  if (w.status !== 'linked' && w.personId !== undefined) throw bad(`a ${w.status} user has no personId`);
  if (!['pull', 'callback', 'import'].includes(w.origin)) throw bad('origin must be pull, callback or import');
  if (w.candidates && !w.candidates.every((c) => typeof c === 'string' && ID.test(c))) throw bad('candidates must be ids');
  return { ...w, ...(w.candidates ? { candidates: w.candidates.slice(0, MAX_CANDIDATES) } : {}) };
}
