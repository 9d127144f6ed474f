import type { OperationKind, PlanOperation } from '../sync-plan';
import { idSortKey } from '../account-naming';
import { fnv1a64 } from '../content-hash';
import { unitNameKey } from '../unit-naming';
import type { UnitAdoption } from './adopt';
import type { OpDrafts } from './diff';
import type { UnitNaming } from './name';
import type { MappingIndex, SourceRead } from './read';

/** Order of kinds inside a phase (cosmetic: dependencies already order what matters). */
const KIND_RANK: Record<OperationKind, number> = {
  'unit.link': 0,
  'account.link': 1,
  'unit.create': 2,
  'unit.update': 3,
  'unit.move': 4,
  'account.create': 5,
  'account.recover': 6,
  'account.update': 7,
  'account.move': 8,
  'account.suspend': 9,
  'account.delete': 10,
  'unit.delete': 11,
  // Mailbox policies (plan/policies.ts, rank.ts, forwarding.ts); a leaver's forward sits with the suspension.
  'account.forward': 9,
  'unit.rank': 12,
  'account.policy': 13,
  'account.rank': 14,
  // Mailing lists and aliases (plan/maillists.ts, aliases.ts).
  'maillist.delete': 15,
  'alias.remove': 16,
  'maillist.create': 17,
  'maillist.update': 18,
  'alias.add': 19,
};

/**
 * Stage 6a, dependencies: decides which operation waits for which. Parents are created
 * before children; a unit moves only after its new ancestors are in their final place (no
 * transient cycle); accounts and child units leave a unit before it is deleted; a name is
 * taken only after its holder released it; links and recoveries come first.
 * Throws on an internal inconsistency (a unit deleted while something stays in it).
 */
export function wireDependencies(idx: MappingIndex, src: SourceRead, units: UnitAdoption, naming: UnitNaming, accountsInUnit: ReadonlyMap<string, string[]>, ops: OpDrafts): void {
  const { drafts, opAt } = ops;
  const unitParent = src.scope.unitParent;
  // The op that frees a unit's current name.
  const releaseOf = (holder: string): number | undefined =>
    opAt(`unit.update:${holder}:temporary`) ?? opAt(`unit.update:${holder}`) ?? opAt(`unit.delete:${holder}`);
  // The nearest op (create or move) that puts `dept` or one of its in-scope ancestors in place:
  // creating or moving under it waits for it, so no unit is ever moved under its own descendant.
  const placingOp = (dept: string | undefined): number | undefined => {
    let d = dept;
    while (d !== undefined) {
      const op = opAt(`unit.create:${d}`) ?? opAt(`unit.move:${d}`);
      if (op !== undefined) return op;
      d = unitParent.get(d);
    }
    return undefined;
  };
  for (let i = 0; i < drafts.length; i++) {
    const op = drafts[i]!.draft;
    const deps = drafts[i]!.deps;
    const need = (j: number | undefined) => {
      if (j !== undefined && j !== i) deps.push(j);
    };
    switch (op.kind) {
      case 'unit.create':
      case 'unit.update':
      case 'unit.move': {
        need(opAt(`unit.link:${op.sourceId}`));
        if (op.kind !== 'unit.update') need(placingOp(unitParent.get(op.sourceId)));
        if (op.kind === 'unit.update' && !op.temporary) need(opAt(`unit.update:${op.sourceId}:temporary`));
        if (op.kind === 'unit.create' || (op.kind === 'unit.update' && !op.temporary)) {
          const holder = units.unitNameHolders.get(unitNameKey(op.name));
          if (holder?.kind === 'unmanaged') throw new Error(`internal: unit name ${op.name} is held by an unmanaged unit`);
          if (holder?.sourceId !== undefined && holder.sourceId !== op.sourceId) {
            const release = releaseOf(holder.sourceId);
            if (release === undefined) throw new Error(`internal: unit name ${op.name} is never released by ${holder.sourceId}`);
            need(release);
          }
        }
        break;
      }
      case 'unit.delete': {
        const m = idx.activeUnits.get(op.sourceId)!;
        for (const child of units.childUnits.get(m.unitId) ?? []) {
          const taker = naming.takenOver.get(child);
          const leave = opAt(`unit.move:${taker ?? child}`) ?? opAt(`unit.delete:${child}`);
          if (leave === undefined) throw new Error(`internal: unit ${m.unitId} is deleted while child ${child} stays`);
          need(leave);
        }
        for (const pid of accountsInUnit.get(m.unitId) ?? []) {
          const leave = opAt(`account.move:${pid}`) ?? opAt(`account.delete:${pid}`);
          if (leave === undefined) throw new Error(`internal: unit ${m.unitId} is deleted while account of ${pid} stays`);
          need(leave);
        }
        break;
      }
      case 'account.create':
      case 'account.move':
        if (op.unit.kind === 'new') need(opAt(`unit.create:${op.unit.sourceId}`));
        need(opAt(`account.link:${op.sourceId}`));
        need(opAt(`account.recover:${op.sourceId}`));
        break;
      case 'account.update':
      case 'account.recover':
      case 'account.suspend':
        need(opAt(`account.link:${op.sourceId}`));
        if (op.kind === 'account.update') need(opAt(`account.recover:${op.sourceId}`));
        break;
      default:
        break;
    }
  }
}

/**
 * Stage 6b, ids and phases: gives every operation a deterministic id (a hash of the run id
 * and the operation), a phase (its topological level: everything it depends on is in an
 * earlier phase) and a stable order (phase, kind, source id, id). Consumes the drafts.
 */
export function orderOperations(runId: string, ops: OpDrafts): PlanOperation[] {
  const { drafts } = ops;
  const ids = drafts.map(({ draft }) => `op_${fnv1a64(JSON.stringify([runId, draft]))}`);
  const phase = topologicalLevels(drafts);
  // The drafts become the operations in place (no copy: at 100,000 people that is ~100 MB less).
  const operations: PlanOperation[] = drafts.map(({ draft, deps }, i) => {
    const op = draft as PlanOperation;
    op.id = ids[i]!;
    op.phase = phase[i]!;
    op.dependsOn = deps.map((d) => ids[d]!).sort();
    return op;
  });
  drafts.length = 0;
  // Phase, then kind, then source id (then id, for the two steps of a name swap).
  const key = (op: PlanOperation) => `${String(op.phase).padStart(6, '0')}${String(KIND_RANK[op.kind]).padStart(2, '0')}${idSortKey(op.sourceId)}\u0000${op.id}`;
  const decorated = operations.map((op) => ({ k: key(op), op }));
  decorated.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  for (let i = 0; i < decorated.length; i++) operations[i] = decorated[i]!.op;
  return operations;
}

/** Kahn's algorithm by levels; deduplicates each draft's deps in place. Throws on a cycle. */
function topologicalLevels(drafts: Array<{ deps: number[] }>): number[] {
  const phase = new Array<number>(drafts.length).fill(-1);
  const dependents = new Map<number, number[]>();
  const pending = new Array<number>(drafts.length).fill(0);
  for (let i = 0; i < drafts.length; i++) {
    const deps = [...new Set(drafts[i]!.deps)];
    drafts[i]!.deps = deps;
    pending[i] = deps.length;
    for (const d of deps) {
      const list = dependents.get(d);
      if (list) list.push(i);
      else dependents.set(d, [i]);
    }
  }
  let frontier: number[] = [];
  for (let i = 0; i < drafts.length; i++) if (pending[i] === 0) frontier.push(i);
  let level = 0;
  let placed = 0;
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const i of frontier) {
      phase[i] = level;
      placed++;
      for (const j of dependents.get(i) ?? []) if (--pending[j]! === 0) next.push(j);
    }
    frontier = next;
    level++;
  }
  if (placed !== drafts.length) throw new Error('internal: the operation graph has a cycle');
  return phase;
}
