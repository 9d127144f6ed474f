/**
 * The sandbox tenants' first identity-links pull, on the local stack's FIRST start, right
 * after their initial full sync (local/first-sync.ts): every synced tenant with a channel
 * apart from its directory source (config/tenants.local.json: `sandbox`, EKP with a DingTalk
 * channel) has its channel users matched to the source's people, the way the sync planner's
 * daily pull and `npx qiye-bridge links pull` do it (same use case, same vendor clients).
 *
 * It prints one line per channel (users, linked, unmatched, ambiguous) and, for the first
 * DingTalk channel, how to sign in from the DingTalk workbench as a linked person and how to
 * get a work notice for them (the NetEase simulator's deliver route, then the notify planner).
 *
 * It runs in the local stack's process on the sync planner's wiring (shared/wiring/wiring.ts,
 * `getWiring`): the same tenant clients, rate limiters and usage meter as the functions, so
 * its DingTalk and WeCom calls count against the month's budget like the planner's daily pull.
 */
import { linkedChannels } from '../shared/config/channels';
import type { TenantConfig } from '../shared/config/tenant-config.schema';
import type { IdentityLinkStore } from '../shared/ports/identity-link-store';
import type { StateStores } from '../shared/ports/state-stores';
import type { LinksDeps } from '../shared/use-cases/links/links-deps';
import { pullLinks, type PullLinksResult } from '../shared/use-cases/links/pull-links';
import { getWiring } from '../shared/wiring/wiring';
import type { LocalStack } from './stack';

export interface FirstLinksReport {
  tenantId: string;
  result?: PullLinksResult;
  /** Why the pull did not run or failed. */
  error?: string;
  /** A linked DingTalk user and the EKP person / mailbox they reach (for the banner and the tests). */
  example?: { channelId: string; channelUserId: string; personId: string; accountName: string };
}

/** Pull the links of `tenants` (those with linked channels) and print the summary lines. */
export async function runFirstLinksPulls(stack: LocalStack, tenants: readonly TenantConfig[], out: (line: string) => void): Promise<FirstLinksReport[]> {
  const linked = tenants.filter((t) => linkedChannels(t).length > 0);
  if (linked.length === 0) return [];
  // The stack set this process's environment for its functions; the planner's wiring runs the daily pull.
  const wiring = getWiring('syncPlanner');
  const deps = wiring.linksDeps();
  try {
    return await pullEach(stack, linked, deps, wiring.stores, out);
  } finally {
    await wiring.flush();
  }
}

async function pullEach(stack: LocalStack, linked: readonly TenantConfig[], deps: LinksDeps, stores: StateStores, out: (line: string) => void): Promise<FirstLinksReport[]> {
  const links = deps.links;
  const reports: FirstLinksReport[] = [];
  for (const t of linked) {
    const report: FirstLinksReport = { tenantId: t.id };
    reports.push(report);
    try {
      report.result = await pullLinks(deps, t);
    } catch (err) {
      report.error = (err as Error).message;
      out(`  links (${t.id}): the pull failed: ${report.error}  (again: npx qiye-bridge links pull --tenant ${t.id})`);
      continue;
    }
    for (const c of report.result.channels) {
      const counts = c.status === 'ok' ? `${c.users} users: ${c.linked} linked, ${c.unmatched} unmatched, ${c.ambiguous} ambiguous` : `failed: ${c.error ?? 'unknown error'}`;
      out(`  links (${t.id}) ${c.channelId}: ${counts}  (npx qiye-bridge links list --tenant ${t.id} --status unmatched)`);
    }
    report.example = await linkedExample(t, links, stores);
    if (report.example) printHowTo(stack, t, report.example, out);
  }
  return reports;
}

/** The first linked user of the tenant's first DingTalk channel whose person has an active mailbox. */
async function linkedExample(t: TenantConfig, links: IdentityLinkStore, stores: Pick<StateStores, 'mappings'>): Promise<FirstLinksReport['example']> {
  const channel = linkedChannels(t).find((c) => c.vendor === 'dingtalk');
  if (!channel || !t.sync.source) return undefined;
  for await (const l of links.list(t.id, channel.id)) {
    if (l.status !== 'linked' || !l.personId) continue;
    const m = await stores.mappings.get({ tenantId: t.id, source: t.sync.source, objectType: 'person', sourceId: l.personId });
    if (m?.status === 'active') return { channelId: channel.id, channelUserId: l.channelUserId, personId: l.personId, accountName: m.neteaseId };
  }
  return undefined;
}

/** The SSO URL that signs in from the DingTalk workbench through the tenant's channel `channelId` (its `dingtalk` section: no `channel=`). */
export function dingtalkSignInUrl(functionUrl: string, tenantId: string, channelId: string): string {
  return `${functionUrl}/sso/${tenantId}?via=dingtalk${channelId === 'dingtalk' ? '' : `&channel=${channelId}`}`;
}

function printHowTo(stack: LocalStack, t: TenantConfig, ex: NonNullable<FirstLinksReport['example']>, out: (line: string) => void): void {
  // The simulators' addresses as the tenant's config names them (first-sync only runs for simulated NetEase).
  const channel = linkedChannels(t).find((c) => c.id === ex.channelId)!;
  const dingtalkSim = new URL(channel.settings.apiBaseUrl).origin;
  const neteaseSim = new URL(t.netease.apiBaseUrl).origin;
  out(`  sign in from the DingTalk workbench as ${ex.accountName}@${t.netease.domain} (EKP ${ex.personId}, DingTalk user ${ex.channelUserId}):`);
  out(`    open ${dingtalkSignInUrl(stack.urls.functionUrl, t.id, ex.channelId)} and pick that user on the DingTalk simulator's sign-in page`);
  out(`    (inside the DingTalk app the workbench uses &flow=h5: the JSAPI code, minted here by POST ${dingtalkSim}/__sim/auth-code {"tenant":"${t.id}","userId":"${ex.channelUserId}","kind":"h5"})`);
  if (t.notifications.enabled) {
    const trigger = `curl -X POST ${stack.urls.gateway}/_local/trigger/notifyPlanner`;
    out(`  a DingTalk notice for them: ${trigger}  (the notify schedule; its first run only records unread counts), then a mail:`);
    out(`    curl -X POST ${neteaseSim}/__sim/deliver -H 'content-type: application/json' -d '{"domain":"${t.netease.domain}","accountName":"${ex.accountName}","subject":"你好"}'`);
    out(`    and ${trigger} again; the notice: ${dingtalkSim}/__sim/messages?tenant=${t.id}`);
  }
}
