/**
 * Matching the users of a channel (a DingTalk org, a WeCom corp) to the people of the
 * tenant's directory source (EKP, usually), by an ordered, per-tenant rule list such as
 * `["jobNumber", "mobile", "email", "userid=loginName"]`.
 *
 * A rule is `attr` (the same attribute on both sides) or `channelAttr=sourceAttr`. For each
 * channel user the rules are tried in order; a rule is skipped when the user has no value
 * for it or no source person has that value. The first rule that finds anyone decides:
 * exactly one person = linked, several = ambiguous (never guessed, the later rules are not
 * asked to break the tie). No rule finding anyone = unmatched. Two channel users of ONE
 * channel landing on the same person are both made ambiguous: one person, one account per
 * channel, or an admin decides (`links import`).
 *
 * People who left the source are not candidates (a link to them would be inert anyway).
 * Values compare normalised: e-mail and login names case-insensitively, mobiles on their
 * digits without a +86 / 86 country prefix, job numbers trimmed.
 *
 * Pure: no I/O, no imports outside shared/domain.
 */
import type { Person } from './directory';

export type ChannelAttribute = 'userid' | 'jobNumber' | 'mobile' | 'email' | 'loginName';
export type SourceAttribute = 'id' | 'jobNumber' | 'mobile' | 'email' | 'loginName';

/** What a channel's directory tells us about one user: ids and match attributes only. */
export interface ChannelUser {
  userId: string;
  jobNumber?: string;
  mobile?: string;
  email?: string;
  loginName?: string;
  /** False when the channel says the account is disabled / not activated. */
  active: boolean;
}

export interface MatchRule {
  text: string;
  channel: ChannelAttribute;
  source: SourceAttribute;
}

export type MatchOutcome =
  | { status: 'linked'; personId: string; rule: string }
  | { status: 'ambiguous'; rule: string; candidates: string[] }
  | { status: 'unmatched' };

const CHANNEL_ATTRS: ReadonlySet<string> = new Set(['userid', 'jobNumber', 'mobile', 'email', 'loginName']);
const SOURCE_ATTRS: ReadonlySet<string> = new Set(['id', 'jobNumber', 'mobile', 'email', 'loginName']);

/** Parse the rule list; throws a plain Error naming the bad rule. */
export function parseMatchRules(rules: readonly string[]): MatchRule[] {
  return rules.map((text) => {
    const [left, right, extra] = text.split('=');
    const channel = left ?? '';
    const source = right ?? (channel === 'userid' ? 'loginName' : channel);
    if (extra !== undefined || !CHANNEL_ATTRS.has(channel) || !SOURCE_ATTRS.has(source)) throw new Error(`bad match rule "${text}"`);
    return { text, channel: channel as ChannelAttribute, source: source as SourceAttribute };
  });
}

/** The normalised value an attribute compares by, or undefined when empty. */
export function normalise(attr: ChannelAttribute | SourceAttribute, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let v = value.trim();
  if (attr === 'mobile') {
    // "+86-138 0013 8000", "8613800138000" and "13800138000" are one number.
    v = v.replace(/[^\d]/g, '');
    if (v.length === 13 && v.startsWith('86')) v = v.slice(2);
  } else if (attr === 'email' || attr === 'loginName' || attr === 'userid') {
    v = v.toLowerCase();
  }
  return v === '' ? undefined : v;
}

function sourceValue(p: Person, attr: SourceAttribute): string | undefined {
  return normalise(attr, attr === 'id' ? p.id : p[attr]);
}

function channelValue(u: ChannelUser, attr: ChannelAttribute): string | undefined {
  return normalise(attr, attr === 'userid' ? u.userId : u[attr]);
}

/** An index of the source people by every attribute the rules use. Build once per run. */
export class SourceIndex {
  private readonly byAttr = new Map<SourceAttribute, Map<string, string[]>>();

  constructor(people: readonly Person[], rules: readonly MatchRule[]) {
    for (const r of rules) {
      if (this.byAttr.has(r.source)) continue;
      const m = new Map<string, string[]>();
      for (const p of people) {
        if (p.status === 'left') continue;
        const v = sourceValue(p, r.source);
        if (v === undefined) continue;
        const list = m.get(v);
        if (list) list.push(p.id);
        else m.set(v, [p.id]);
      }
      this.byAttr.set(r.source, m);
    }
  }

  lookup(attr: SourceAttribute, value: string): readonly string[] {
    return this.byAttr.get(attr)?.get(value) ?? [];
  }
}

/** Match one channel user by the rules (see the file comment). */
export function matchUser(user: ChannelUser, rules: readonly MatchRule[], index: SourceIndex): MatchOutcome {
  for (const r of rules) {
    const v = channelValue(user, r.channel);
    if (v === undefined) continue;
    const hits = [...new Set(index.lookup(r.source, v))];
    if (hits.length === 1) return { status: 'linked', personId: hits[0]!, rule: r.text };
    if (hits.length > 1) return { status: 'ambiguous', rule: r.text, candidates: hits.sort() };
  }
  return { status: 'unmatched' };
}

/**
 * Match every user of ONE channel; users who land on a person another user of the same
 * channel also landed on become ambiguous (file comment).
 */
export function matchChannel(users: readonly ChannelUser[], rules: readonly MatchRule[], index: SourceIndex): Map<string, MatchOutcome> {
  const out = new Map<string, MatchOutcome>();
  const byPerson = new Map<string, string[]>();
  for (const u of users) {
    const m = matchUser(u, rules, index);
    out.set(u.userId, m);
    if (m.status === 'linked') byPerson.set(m.personId, [...(byPerson.get(m.personId) ?? []), u.userId]);
  }
  for (const [personId, userIds] of byPerson) {
    if (userIds.length < 2) continue;
    for (const id of userIds) {
      const m = out.get(id) as { rule: string };
      out.set(id, { status: 'ambiguous', rule: `${m.rule} (shared by ${userIds.length} users of this channel)`, candidates: [personId] });
    }
  }
  return out;
}
