import type { MatchAttribute, NeteaseAccountRecord, NeteaseUnitRecord } from '../sync-plan';
import { isDefaultUnitId } from '../sync-plan';
import { matchAccounts, matchUnits, type AccountAdoptionCandidate, type AccountLink } from '../adoption';
import { unitNameKey } from '../unit-naming';
import type { NameHolderInfo, PlanContext } from './context';
import { pushTo } from './context';
import type { MappingIndex, SourceRead } from './read';

/** Units after adoption: which NetEase units are linked, which stay unmanaged, who holds which name. */
export interface UnitAdoption {
  /** Department id -> the existing NetEase unit it adopts (by path). */
  linkedUnits: Map<string, NeteaseUnitRecord>;
  /** NetEase units neither mapped nor linked. */
  unmanagedUnits: NeteaseUnitRecord[];
  /** Unit name key -> who holds that name when the run starts. */
  unitNameHolders: Map<string, NameHolderInfo>;
  /** Unit id -> mapped departments whose unit is its child (for the emptiness check). */
  childUnits: Map<string, string[]>;
  /** Unit id -> number of unmanaged child units. */
  unmanagedChildCount: Map<string, number>;
}

/**
 * Stage 3a, unit adoption (adoption.ts): decides which unmapped desired departments link to
 * an existing NetEase unit by path (only with `adopt`), and records who holds every unit
 * name and which units have children, for naming and the emptiness check.
 */
export function adoptUnits(ctx: PlanContext, idx: MappingIndex, src: SourceRead): UnitAdoption {
  const { input } = ctx;
  const { activeUnits, unitsByUnitId } = idx;
  const neteaseUnits = input.netease?.units ?? [];
  const unitAdoption =
    input.adopt && input.netease
      ? matchUnits(
          src.priority.map((id) => {
            const parent = src.scope.unitParent.get(id);
            return { sourceId: id, base: src.baseName.get(id)!, ancestors: src.ancestorsOf(id), ...(parent !== undefined ? { parentSourceId: parent } : {}) };
          }),
          neteaseUnits.filter((u) => !unitsByUnitId.has(u.unitId)),
          (id) => (src.desiredSet.has(id) ? activeUnits.get(id)?.unitId : undefined),
        )
      : { links: new Map<string, NeteaseUnitRecord>(), ambiguous: new Map<string, string>() };
  const linkedUnits = unitAdoption.links;
  for (const [id, detail] of unitAdoption.ambiguous) ctx.note('department', id, 'adoptionAmbiguous', `${detail}; a new unit is created and the existing one is left unmatched`);
  const linkedUnitIds = new Set([...linkedUnits.values()].map((u) => u.unitId));
  const unmanagedUnits = neteaseUnits.filter((u) => !unitsByUnitId.has(u.unitId) && !linkedUnitIds.has(u.unitId));

  const unitNameHolders = new Map<string, NameHolderInfo>();
  for (const m of activeUnits.values()) unitNameHolders.set(unitNameKey(m.name), { sourceId: m.sourceId, kind: 'managed' });
  for (const [id, u] of linkedUnits) unitNameHolders.set(unitNameKey(u.name), { sourceId: id, kind: 'managed' });
  for (const u of unmanagedUnits) unitNameHolders.set(unitNameKey(u.name), { kind: 'unmanaged' });

  const childUnits = new Map<string, string[]>();
  const unmanagedChildCount = new Map<string, number>();
  for (const m of activeUnits.values()) if (m.parentUnitId !== undefined) pushTo(childUnits, m.parentUnitId, m.sourceId);
  for (const u of unmanagedUnits) if (u.parentId !== undefined) unmanagedChildCount.set(u.parentId, (unmanagedChildCount.get(u.parentId) ?? 0) + 1);
  return { linkedUnits, unmanagedUnits, unitNameHolders, childUnits, unmanagedChildCount };
}

/** Accounts after adoption. */
export interface AccountAdoption {
  links: Map<string, AccountLink>;
  ambiguous: Map<string, string>;
  /** NetEase accounts neither mapped nor linked. */
  unmanagedAccounts: NeteaseAccountRecord[];
  /** Unit id -> number of unmanaged, not deleted accounts in it. */
  unmanagedAccountsInUnit: Map<string, number>;
}

/**
 * Stage 3c, account adoption (adoption.ts): decides which unmapped, active, in-scope people
 * link to an existing NetEase mailbox (by account name or the configured attributes; only
 * with `adopt`), and notes ambiguous matches and attribute conflicts.
 */
export function adoptAccounts(ctx: PlanContext, idx: MappingIndex, candidates: AccountAdoptionCandidate[]): AccountAdoption {
  const { input, settings, note } = ctx;
  const neteaseAccounts = input.netease?.accounts ?? [];
  const unmanagedAccountsAll = neteaseAccounts.filter((a) => !idx.mappedAccountNames.has(a.accountName.toLowerCase()));
  const adoption =
    input.adopt && input.netease
      ? matchAccounts(candidates, unmanagedAccountsAll, settings.matchAttributes, {
          accountNameRule: settings.accountNameRule,
          ...(input.mailDomain !== undefined ? { mailDomain: input.mailDomain } : {}),
        })
      : { links: new Map<string, AccountLink>(), ambiguous: new Map<string, string>(), conflicts: new Map<string, MatchAttribute[]>() };
  const linkedAccountNames = new Set([...adoption.links.values()].map((l) => l.account.accountName.toLowerCase()));
  const unmanagedAccounts = unmanagedAccountsAll.filter((a) => !linkedAccountNames.has(a.accountName.toLowerCase()));
  for (const [id, detail] of adoption.ambiguous) note('person', id, 'adoptionAmbiguous', `${detail}; nothing linked or created until an admin links it`);
  for (const [id, attrs] of adoption.conflicts) note('person', id, 'adoptionConflict', `linked to ${adoption.links.get(id)!.account.accountName} by account name although ${attrs.join(', ')} differ`);

  const unmanagedAccountsInUnit = new Map<string, number>();
  for (const a of unmanagedAccounts) {
    if (a.status === 'deleted' || isDefaultUnitId(a.unitId)) continue;
    unmanagedAccountsInUnit.set(a.unitId!, (unmanagedAccountsInUnit.get(a.unitId!) ?? 0) + 1);
  }
  return { links: adoption.links, ambiguous: adoption.ambiguous, unmanagedAccounts, unmanagedAccountsInUnit };
}
