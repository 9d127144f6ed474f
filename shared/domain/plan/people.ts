import type { Person } from '../directory';
import { deriveAccountName } from '../account-naming';
import type { AccountAdoptionCandidate } from '../adoption';
import type { Placement, PlanContext } from './context';
import type { MappingIndex, SourceRead } from './read';

/** Where each person belongs in this run, and the account name the rule gives them. */
export interface PeoplePlacement {
  placements: Map<string, Placement>;
  /** Person id -> the derived account name, for active, in-scope people. */
  derived: Map<string, ReturnType<typeof deriveAccountName>>;
  /** Unmapped, active, in-scope people who may adopt an existing mailbox. */
  adoptionCandidates: AccountAdoptionCandidate[];
}

/**
 * Stage 3b, placement of people: decides each person's unit. The main department decides
 * it (a NetEase account has one `unit_id`, reference §2); a person whose main department is
 * out of scope goes to their first in-scope department; one with no department the source
 * still has (and no include filter) goes to the default unit; `onlyWithEmail` puts people
 * without an address out of scope. Also derives account names and adoption candidates.
 */
export function placePeople(ctx: PlanContext, idx: MappingIndex, src: SourceRead): PeoplePlacement {
  const { input, settings } = ctx;
  const { universe, scope } = src;
  const include = settings.includeDepartments;
  const placementOf = (p: Person): Placement => {
    const ids = p.departmentIds ?? [];
    const inScope = ids.filter((id) => scope.state.get(id) === 'in');
    let placement: Placement;
    if (inScope.length > 0) {
      const main = p.mainDepartmentId !== undefined && inScope.includes(p.mainDepartmentId) ? p.mainDepartmentId : inScope[0]!;
      placement = { state: 'in', dept: main };
    } else if (ids.some((id) => scope.state.get(id) === 'unknown' || (!universe.authoritative && !universe.departments.has(id) && !universe.goneDepartments.has(id)))) {
      const quarantined = ids.find((id) => scope.quarantined.has(id));
      placement = quarantined !== undefined ? { state: 'unknown', quarantined } : { state: 'unknown' };
    } else if (ids.some((id) => scope.state.get(id) === 'out') || include.length > 0) {
      placement = { state: 'out', why: 'departments' };
    } else {
      // No department the source still has, and no include filter: the default unit (noted
      // when the person names departments the source does not have).
      const missing = ids.filter((id) => !universe.departments.has(id));
      placement = missing.length > 0 ? { state: 'in', dept: null, missing } : { state: 'in', dept: null };
    }
    if (placement.state === 'in' && settings.onlyWithEmail && !p.email?.trim()) placement = { state: 'out', why: 'noEmail' };
    return placement;
  };

  const placements = new Map<string, Placement>();
  const derived = new Map<string, ReturnType<typeof deriveAccountName>>();
  const adoptionCandidates: AccountAdoptionCandidate[] = [];
  for (const p of universe.people) {
    if (universe.deletedPeople.has(p.id)) continue;
    const placement = placementOf(p);
    placements.set(p.id, placement);
    if (p.status !== 'active' || placement.state !== 'in') continue;
    const d = deriveAccountName(p, settings.accountNameRule);
    derived.set(p.id, d);
    if (!idx.accountMappings.has(p.id) && input.adopt && input.netease) {
      const c: AccountAdoptionCandidate = { sourceId: p.id };
      if (d.ok) c.accountName = d.name;
      if (p.email !== undefined) c.email = p.email;
      if (p.jobNumber !== undefined) c.jobNumber = p.jobNumber;
      if (p.mobile !== undefined) c.mobile = p.mobile;
      adoptionCandidates.push(c);
    }
  }
  return { placements, derived, adoptionCandidates };
}
