/**
 * The links pull (daily, and `links pull` from the CLI): read each linked channel's users,
 * match them to the source's people by the channel's rules (its own `links.rules`, else the
 * tenant's: shared/config/channels.ts; matching in shared/domain/identity-match.ts)
 * and store the outcome per channel user. Also the per-user refresh the contact callbacks
 * drive (`refreshChannelUsers`), so a user added in DingTalk is linked within seconds.
 *
 * - Ambiguous and unmatched users are stored as such and reported, never guessed.
 * - Links an admin imported (`origin: import`) are kept: the pull never overrides a
 *   person's decision. They go only when the user leaves the channel.
 * - A channel user no longer in the channel loses their link.
 * - Nothing here touches a mailbox or a mapping.
 * - A channel whose read fails is reported `failed` and keeps its links; the others go ahead.
 */
import { linkedChannels, type TenantChannel } from '../../config/channels';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { matchChannel, matchUser, parseMatchRules, SourceIndex, type MatchOutcome } from '../../domain/identity-match';
import { AppError, NotFoundError, ValidationError } from '../../errors/app-error';
import type { IdentityLink, IdentityLinkWrite } from '../../ports/identity-link-store';
import type { LinksDeps } from './links-deps';

export interface LinkProblem {
  channelUserId: string;
  status: 'ambiguous' | 'unmatched';
  rule?: string;
  candidates?: string[];
}

export interface ChannelLinksReport {
  channelId: string;
  vendor: 'dingtalk' | 'wecom';
  status: 'ok' | 'failed';
  users: number;
  linked: number;
  ambiguous: number;
  unmatched: number;
  /** Links written (new or changed) and removed (users gone from the channel). */
  written: number;
  removed: number;
  problems: LinkProblem[];
  error?: string;
}

export interface PullLinksResult {
  tenantId: string;
  status: 'ok' | 'partial' | 'skipped';
  channels: ChannelLinksReport[];
  reason?: string;
}

/** Pull every linked channel of `tenant` (or only `channelId`). */
export async function pullLinks(deps: LinksDeps, tenant: TenantConfig, opts: { channelId?: string } = {}): Promise<PullLinksResult> {
  const log = deps.logger.child({ tenant: tenant.id });
  let channels = linkedChannels(tenant);
  if (opts.channelId !== undefined) {
    channels = channels.filter((c) => c.id === opts.channelId);
    if (channels.length === 0) throw new NotFoundError(`Tenant ${tenant.id} has no linked channel "${opts.channelId}" (the source's own channel needs no links).`, { code: 'LINKS.NO_CHANNEL' });
  }
  if (channels.length === 0) return { tenantId: tenant.id, status: 'skipped', channels: [], reason: 'no channel apart from the directory source' };
  // One source read and one index for every channel of the tenant, by every attribute any of
  // their rules uses (an index only answers lookups; each channel matches by its own rules).
  const index = new SourceIndex(await deps.sourcePeople(tenant), parseMatchRules(channels.flatMap((c) => c.rules)));
  const reports: ChannelLinksReport[] = [];
  for (const channel of channels) {
    try {
      reports.push(await pullChannel(deps, tenant, channel, parseMatchRules(channel.rules), index));
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      log.error('links pull failed for this channel; its links are kept', { channel: channel.id, code, err });
      reports.push({ channelId: channel.id, vendor: channel.vendor, status: 'failed', users: 0, linked: 0, ambiguous: 0, unmatched: 0, written: 0, removed: 0, problems: [], error: code });
    }
  }
  for (const r of reports) log.info('links pulled', { channel: r.channelId, status: r.status, users: r.users, linked: r.linked, ambiguous: r.ambiguous, unmatched: r.unmatched, written: r.written, removed: r.removed });
  return { tenantId: tenant.id, status: reports.some((r) => r.status === 'failed') ? 'partial' : 'ok', channels: reports };
}

async function pullChannel(deps: LinksDeps, tenant: TenantConfig, channel: TenantChannel, rules: ReturnType<typeof parseMatchRules>, index: SourceIndex): Promise<ChannelLinksReport> {
  const users = await (await deps.channelDirectory(tenant, channel)).listUsers();
  const outcomes = matchChannel(users, rules, index);
  const existing = new Map<string, IdentityLink>();
  for await (const l of deps.links.list(tenant.id, channel.id)) existing.set(l.channelUserId, l);
  const report: ChannelLinksReport = { channelId: channel.id, vendor: channel.vendor, status: 'ok', users: users.length, linked: 0, ambiguous: 0, unmatched: 0, written: 0, removed: 0, problems: [] };

  for (const [userId, outcome] of outcomes) {
    const prior = existing.get(userId);
    existing.delete(userId);
    if (prior?.origin === 'import') {
      report.linked++; // an admin's decision stands
      continue;
    }
    const write = writeOf(tenant.id, channel.id, userId, outcome, 'pull');
    count(report, write);
    if (!prior || changed(prior, write)) {
      await deps.links.put(write);
      report.written++;
    }
  }
  for (const gone of existing.keys()) {
    if (await deps.links.delete(tenant.id, channel.id, gone)) report.removed++;
  }
  return report;
}

/**
 * Re-read some users of one channel and re-link them now (contact callbacks: added, changed,
 * left). A user the channel no longer has loses their link.
 */
export async function refreshChannelUsers(deps: LinksDeps, tenant: TenantConfig, channel: TenantChannel, userIds: readonly string[]): Promise<ChannelLinksReport> {
  const report: ChannelLinksReport = { channelId: channel.id, vendor: channel.vendor, status: 'ok', users: 0, linked: 0, ambiguous: 0, unmatched: 0, written: 0, removed: 0, problems: [] };
  if (userIds.length === 0) return report;
  const rules = parseMatchRules(channel.rules);
  const dir = await deps.channelDirectory(tenant, channel);
  let index: SourceIndex | undefined;
  for (const userId of new Set(userIds)) {
    const user = await dir.getUser(userId);
    const prior = await deps.links.get(tenant.id, channel.id, userId);
    if (!user) {
      if (prior && (await deps.links.delete(tenant.id, channel.id, userId))) report.removed++;
      continue;
    }
    report.users++;
    if (prior?.origin === 'import') {
      report.linked++;
      continue;
    }
    index ??= new SourceIndex(await deps.sourcePeople(tenant), rules);
    let outcome = matchUser(user, rules, index);
    // One person, one user per channel: a second user of this channel on the same person is ambiguous.
    if (outcome.status === 'linked') {
      const taken = (await deps.links.listByPerson(tenant.id, outcome.personId)).filter((l) => l.channelId === channel.id && l.channelUserId !== userId);
      if (taken.length > 0) outcome = { status: 'ambiguous', rule: `${outcome.rule} (person already linked to ${taken.map((l) => l.channelUserId).join(', ')})`, candidates: [outcome.personId] };
    }
    const write = writeOf(tenant.id, channel.id, userId, outcome, 'callback');
    count(report, write);
    if (!prior || changed(prior, write)) {
      await deps.links.put(write);
      report.written++;
    }
  }
  return report;
}

/** An admin's link decisions (CSV rows channelId,channelUserId,personId): all checked first, then written. */
export async function importLinks(deps: LinksDeps, tenant: TenantConfig, rows: ReadonlyArray<{ channelId: string; channelUserId: string; personId: string }>): Promise<{ written: number }> {
  const channels = new Set(linkedChannels(tenant).map((c) => c.id));
  const people = new Map((await deps.sourcePeople(tenant)).map((p) => [p.id, p]));
  const problems: string[] = [];
  rows.forEach((r, i) => {
    if (!channels.has(r.channelId)) problems.push(`row ${i + 1}: "${r.channelId}" is not a linked channel of ${tenant.id}`);
    if (!r.channelUserId) problems.push(`row ${i + 1}: the channel user id is empty`);
    const p = people.get(r.personId);
    if (!p) problems.push(`row ${i + 1}: person "${r.personId}" is not in the directory source`);
    else if (p.status === 'left') problems.push(`row ${i + 1}: person "${r.personId}" has left`);
  });
  if (problems.length > 0) throw new ValidationError(`links import refused, nothing written:\n${problems.slice(0, 20).join('\n')}`, { code: 'LINKS.BAD_IMPORT' });
  for (const r of rows) await deps.links.put({ tenantId: tenant.id, channelId: r.channelId, channelUserId: r.channelUserId, status: 'linked', personId: r.personId, rule: 'import', origin: 'import' });
  return { written: rows.length };
}

function writeOf(tenantId: string, channelId: string, channelUserId: string, o: MatchOutcome, origin: IdentityLinkWrite['origin']): IdentityLinkWrite {
  const base = { tenantId, channelId, channelUserId, origin };
  if (o.status === 'linked') return { ...base, status: 'linked', personId: o.personId, rule: o.rule };
  if (o.status === 'ambiguous') return { ...base, status: 'ambiguous', rule: o.rule, candidates: o.candidates };
  return { ...base, status: 'unmatched' };
}

function count(report: ChannelLinksReport, w: IdentityLinkWrite): void {
  report[w.status]++;
  if (w.status !== 'linked') report.problems.push({ channelUserId: w.channelUserId, status: w.status, ...(w.rule ? { rule: w.rule } : {}), ...(w.candidates ? { candidates: w.candidates } : {}) });
}

function changed(prior: IdentityLink, w: IdentityLinkWrite): boolean {
  return prior.status !== w.status || prior.personId !== w.personId || prior.rule !== w.rule || JSON.stringify(prior.candidates ?? []) !== JSON.stringify(w.candidates ?? []);
}
