/**
 * Stage 5e, mailbox policies (`sync.policies`, mailbox-policies.ts): decides, for every
 * person who has or gets a mailbox in this run, which rule applies (first match wins) and
 * whether its values must be written.
 *
 * - A new mailbox carries the policy on its `account.create` (createAccount takes `quota`,
 *   `addr_visible`, `addr_right`: reference §2), so a policy costs no extra call at creation.
 * - A mapped mailbox gets an `account.policy` (updateAccount with those fields) when the
 *   rule's values differ from what the bridge last applied (`AccountMapping.policyHash`): a
 *   person who moved department, a rule that changed, a tenant that just turned policies on.
 * - On a full run that read NetEase's accounts with getAccount (legacy API: `quota` is
 *   returned, §2), a quota that differs from the rule's is written again (someone changed it
 *   in the console). The address-book flags are not returned by any documented read, so for
 *   them the mapping is the only memory.
 * - When no rule matches any more, nothing is written: NetEase keeps the values last applied
 *   (there is no documented "reset to the domain default"), and a note says so. Add a last
 *   catch-all rule (`match: { all: true }`) to give everyone else explicit values.
 *
 * The rule is named by the operation that writes it (the plan, the run log, `explain`) and
 * recorded in the mapping (`policyRule`, shown by `mappings list` and `explain`). No note
 * is written for an unchanged person: 10,000 notes a run would only repeat the mapping.
 */
import type { Person } from '../directory';
import { choosePolicy, describePolicySet, type DepartmentLookup } from '../mailbox-policies';
import type { PersonIntent, PlanContext } from './context';
import type { OpDrafts } from './diff';
import type { SourceRead } from './read';

export function planPolicies(ctx: PlanContext, src: SourceRead, intents: ReadonlyMap<string, PersonIntent>, ops: OpDrafts): void {
  const rules = ctx.settings.policies;
  if (!rules || rules.length === 0) return;
  const departments: DepartmentLookup = { get: (id) => src.universe.departments.get(id) };
  const people = new Map<string, Person>(src.universe.people.map((p) => [p.id, p]));
  const quotaHeld = neteaseQuotas(ctx);
  for (const it of intents.values()) {
    if (it.action !== 'create' && it.action !== 'keep') continue;
    const person = people.get(it.sourceId);
    if (!person) continue;
    const chosen = choosePolicy(rules, person, departments);
    const mapping = it.mapping;
    if (!chosen) {
      if (mapping?.policyHash !== undefined) {
        ctx.note('person', it.sourceId, 'policy', `no policy rule matches any more; ${it.accountName} keeps what ${mapping.policyRule ?? 'an earlier rule'} set (add a catch-all rule to reset it)`);
      }
      continue;
    }
    const what = describePolicySet(chosen.set);
    const applied = { rule: chosen.rule, set: chosen.set, hash: chosen.hash };
    const createAt = ops.opAt(`account.create:${it.sourceId}`);
    if (createAt !== undefined) {
      const draft = ops.drafts[createAt]!.draft;
      if (draft.kind === 'account.create') draft.policy = applied;
      continue;
    }
    const held = quotaHeld?.get(it.accountName.toLowerCase());
    const quotaDrift = held !== undefined && chosen.set.quota !== undefined && held !== String(chosen.set.quota);
    if (mapping?.policyHash === chosen.hash && !quotaDrift) continue;
    const why = mapping?.policyHash === chosen.hash ? `NetEase holds quota ${held}` : mapping?.policyRule !== undefined ? `was ${mapping.policyRule}` : 'not applied before';
    const at = ops.add({ kind: 'account.policy', sourceId: it.sourceId, accountName: it.accountName, policy: applied, ...(mapping?.policyRule !== undefined ? { previousRule: mapping.policyRule } : {}) });
    // A mailbox this run links or recovers is written only after that.
    ops.after(at, [`account.link:${it.sourceId}`, `account.recover:${it.sourceId}`]);
    ctx.note('person', it.sourceId, 'policy', `rule ${chosen.rule}: ${what} (${why})`);
  }
}

/** Quotas NetEase reported for accounts (full legacy runs read getAccount per mailbox). */
function neteaseQuotas(ctx: PlanContext): Map<string, string> | undefined {
  const n = ctx.input.netease;
  if (!n?.reconcilable) return undefined;
  const out = new Map<string, string>();
  for (const a of n.accounts) if (a.quota !== undefined && a.status !== 'deleted') out.set(a.accountName.toLowerCase(), a.quota);
  return out;
}
