/**
 * The sync planner: from the source view, our mapping state and (for adoption) what NetEase
 * holds, compute the smallest ordered set of NetEase operations that makes NetEase equal to
 * the source. Pure: no I/O, deterministic for a given input (op ids included).
 *
 * This file is the orchestrator; every stage is a function in ./plan/ over an explicit
 * context, with a TSDoc saying what it decides. Decisions, in the order they are made:
 * 1. Source view and scope (source-view.ts): which departments exist and are in scope,
 *    which are gone, which are unknown in a partial/change run.
 * 2. Departments -> units. In-scope departments are "desired"; a mapped unit whose
 *    department is gone or out of scope "retires" (deleted once empty); one this run cannot
 *    judge is "retained" (left alone). Adoption links unmapped departments to existing
 *    units by path. Unique unit names come from unit-naming.ts. A new department that gets
 *    the name of a retiring unit takes that unit over (one link, maybe one move) instead of
 *    a delete and a create that would collide on the name.
 * 3. People -> accounts. The main department decides the unit: a NetEase account has one
 *    `unit_id`; getAccount's `unit_list` (reference §2) is read-only as far as the
 *    documented API goes (createAccount/updateAccount take one unit_id), so secondary
 *    departments are not mirrored. A person whose main department is out of scope goes to
 *    their first in-scope department. Lifecycle: leaver -> suspend -> delete after the
 *    grace period (deleteAccountSim, recoverable for 7 days); returning -> recover;
 *    disabled or out of scope -> suspend only (never deleted automatically).
 * 4. Unit deletion waits until the unit is empty (NetEase refuses otherwise, reference §5):
 *    a unit still holding a suspended leaver in grace, an account or unit we do not
 *    manage, or a retained child is deferred and reported; its name stays reserved.
 * 5. Opt-in per tenant (mailbox-policies.ts), after the account diff: policy values (quota,
 *    address-book flags) on create and on change (plan/policies.ts), display ranks
 *    (plan/rank.ts), and forwarding of a leaver's mail during the grace period
 *    (plan/forwarding.ts), each diffed against what the mapping says was last applied.
 * 6. Opt-in mail features: department mailing lists (plan/maillists.ts), then aliases from
 *    the source (plan/aliases.ts), both over one address book of the domain
 *    (plan/mail-names.ts): collisions are reported, never forced.
 * 7. Operations with dependencies, then phases (topological levels): parents are created
 *    before children, accounts and child units leave a unit before it is deleted, a unit
 *    moves only after its new ancestors are in their final place (no transient cycle), and
 *    a name is taken only after its holder released it (a two-unit name swap goes through
 *    a temporary name).
 * 8. Safety (safety.ts): suspensions and deletions above the threshold, or from a source
 *    that shrank to nothing or to half, park the plan for approval.
 *
 * Unchanged objects produce no operation at all: units compare the applied name and
 * parent, accounts the content hash of the fields we send (account-profile.ts).
 */
import type { PlanSyncInput, SyncPlan } from './sync-plan';
import { adoptAccounts, adoptUnits } from './plan/adopt';
import { createPlanContext } from './plan/context';
import { createOpDrafts, diffAccounts, diffUnits, planNameSwaps } from './plan/diff';
import { planPersonIntents } from './plan/intents';
import { nameAccounts, nameUnits } from './plan/name';
import { orderOperations, wireDependencies } from './plan/order';
import { placePeople } from './plan/people';
import { indexMappings, readSource } from './plan/read';
import { buildPlan } from './plan/report';
import { assignUnitRoles } from './plan/roles';
import { assessSafety } from './plan/safety';
import { validatePlanInput } from './plan/validate';
import { reconcileWithNetease } from './plan/reconcile';
import { linkMovedAwayUnits, planLegacyMoves, unresolvedMoves, wireMovedAwayLinks } from './plan/legacy-moves';
import { companyAddressesOnly } from './plan/company-addresses';
import { recordDrift } from './plan/drift-records';
import { planPolicies } from './plan/policies';
import { planRanks } from './plan/rank';
import { planForwarding } from './plan/forwarding';
import { planMailLists } from './plan/maillists';
import { planAliases } from './plan/aliases';
import { buildAddressBook, wireAddressReleases } from './plan/mail-names';

export { isDefaultUnitId } from './sync-plan';

/**
 * Computes the plan. Throws SyncPlanInputError on inconsistent input; never partially plans.
 * Each stage lives in ./plan/ and says what it decides; they run in this order, and notes
 * are appended in this order.
 */
export function planSync(input: PlanSyncInput): SyncPlan {
  validatePlanInput(input);
  // 0. Company addresses only; then the mapping as NetEase really holds it (drift).
  const addresses = companyAddressesOnly(input);
  const rec = reconcileWithNetease(addresses.input);
  const ctx = createPlanContext({ ...addresses.input, mappings: rec.mappings }, rec.purged);
  ctx.notes.push(...addresses.notes);
  for (const d of rec.drift) ctx.note(d.type, d.sourceId, 'drift', `${d.kind}: NetEase holds ${d.before}, the bridge wants ${d.after}${d.repair === 'reported' ? ' (report mode: not repaired)' : ''}`);
  // 1. Source view and scope.
  const idx = indexMappings(ctx);
  const src = readSource(ctx, idx);
  // 2. Legacy moves (new unit, old one retires), unit roles, unit adoption.
  const moves = planLegacyMoves(ctx, idx, src);
  const roles = assignUnitRoles(ctx, idx, src);
  const units = adoptUnits(ctx, idx, src);
  // 3. People: placement, adoption, names, intents.
  const people = placePeople(ctx, idx, src);
  const adoption = adoptAccounts(ctx, idx, people.adoptionCandidates);
  const accountNaming = nameAccounts(ctx, idx, src, people, adoption);
  const { intents, counters, accountsInUnit } = planPersonIntents(ctx, idx, src, people, adoption, accountNaming);
  // 4. Unit names, takeovers and deletability.
  const unitNaming = nameUnits(ctx, idx, src, roles, units, { intents, accountsInUnit, unmanagedAccountsInUnit: adoption.unmanagedAccountsInUnit });
  // The unit and account operations decided in 2-4.
  const ops = createOpDrafts();
  const unchangedDepartments = diffUnits(ctx, idx, src, roles, unitNaming, ops);
  planNameSwaps(src, units, unitNaming, ops);
  diffAccounts(intents, unitNaming, ops, counters);
  const moveLinks = linkMovedAwayUnits(moves, ops);
  recordDrift(rec.records, ops);
  // 5. Mailbox policies, display order, leaver forwarding (each off unless configured).
  planPolicies(ctx, src, intents, ops);
  planRanks(ctx, idx, src, unitNaming, intents, ops);
  const forwarding = planForwarding(ctx, idx, src, intents, ops);
  // 6. Mailing lists, then aliases (lists claim their addresses first).
  if (ctx.settings.mailLists?.enabled || ctx.settings.aliases) {
    const book = buildAddressBook({ accounts: idx.accountMappings.values(), units: ctx.input.mappings.units, intents, ...(ctx.input.netease ? { netease: ctx.input.netease } : {}), ...(ctx.input.mail?.netease ? { mail: ctx.input.mail.netease } : {}) });
    planMailLists(ctx, idx, src, roles, unitNaming, intents, book, ops);
    planAliases(ctx, src, intents, book, ops);
    wireAddressReleases(ops);
  }
  // 7. Dependencies, ids and phases.
  wireDependencies(idx, src, units, unitNaming, accountsInUnit, ops);
  wireMovedAwayLinks(moves, moveLinks, ops);
  const operations = orderOperations(input.runId, ops);
  // 8. Safety, then the report.
  const safety = assessSafety(ctx, idx, src, units, people, adoption, operations);
  const unresolved = [
    ...rec.drift.filter((d) => d.repair === 'reported').map((d) => ({ type: d.type, sourceId: d.sourceId, name: d.name, why: `drift (${d.kind}): NetEase holds ${d.before}; report mode does not repair it` })),
    ...unresolvedMoves(idx, roles, unitNaming),
    ...forwarding,
  ];
  return buildPlan(ctx, { src, units, adoption, accountNaming, unitNaming, counters, unchangedDepartments, skippedDepartments: roles.skippedDepartments, operations, safety, drift: rec.drift, unresolved });
}
