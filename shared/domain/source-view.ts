/**
 * The planner's view of the source for one run: which departments exist, which are gone,
 * which people to plan, and which departments are in scope.
 *
 * Three modes:
 * - `full`: a complete snapshot. Authoritative: anything mapped and missing is gone.
 * - `partial`: a snapshot whose pull did not finish. Upserts only; missing objects are
 *   left as they are (reference sync-and-ekp.md, "Ideas" 2: never delete from a partial pull).
 * - `changes`: a change feed. Upserts plus the feed's explicit deletions only.
 * In the last two, departments the run did not read are rebuilt from the mapping state
 * (their last applied name and parent), so duplicate-name suffixes and people's units can
 * still be computed.
 */
import type { Department, Person } from './directory';
import type { SourceView, SyncSettings, UnitMapping } from './sync-plan';
import { SyncPlanInputError } from './sync-plan';
import { findQuarantined, type QuarantineReason } from './department-quarantine';

export interface DepartmentNode {
  id: string;
  name: string;
  parentId?: string;
  order: number;
  /** Rebuilt from the mapping state rather than read in this run. */
  rebuilt: boolean;
}

export interface SourceUniverse {
  mode: 'full' | 'partial' | 'changes';
  /** Absent objects are gone (complete snapshot). */
  authoritative: boolean;
  /** Active departments known in this run. */
  departments: Map<string, DepartmentNode>;
  /** Departments the source says are gone: explicit deletions and disabled ones. */
  goneDepartments: Set<string>;
  /** People read in this run. */
  people: Person[];
  /** Person ids the feed explicitly deleted. */
  deletedPeople: Set<string>;
}

/** Builds the run's view; throws SyncPlanInputError on duplicate ids. */
export function buildSourceUniverse(source: SourceView, activeUnits: ReadonlyMap<string, UnitMapping>, unitsByUnitId: ReadonlyMap<string, UnitMapping>): SourceUniverse {
  const problems: string[] = [];
  const departments = new Map<string, DepartmentNode>();
  const goneDepartments = new Set<string>();
  const readDepartments: Department[] = source.kind === 'snapshot' ? source.snapshot.departments : source.changes.departments;
  const people: Person[] = source.kind === 'snapshot' ? source.snapshot.people : source.changes.people;
  const mode = source.kind === 'changes' ? 'changes' : source.snapshot.complete ? 'full' : 'partial';
  const authoritative = mode === 'full';

  if (!authoritative) {
    for (const m of activeUnits.values()) {
      const parent = m.parentUnitId === undefined ? undefined : unitsByUnitId.get(m.parentUnitId);
      departments.set(m.sourceId, {
        id: m.sourceId,
        name: m.sourceName,
        // A top-level unit keeps the source parent it had (possibly out of scope).
        parentId: parent?.status === 'active' ? parent.sourceId : m.parentUnitId === undefined ? m.parentSourceId : undefined,
        order: 0,
        rebuilt: true,
      });
    }
  }
  const seenDepartments = new Set<string>();
  for (const d of readDepartments) {
    if (typeof d.id !== 'string' || d.id === '') problems.push('a department has an empty id');
    else if (seenDepartments.has(d.id)) problems.push(`department id ${d.id} appears twice`);
    seenDepartments.add(d.id);
    // A self-parent (or a cycle) is not refused here: resolveDepartmentScope quarantines it.
    if (d.status === 'active') {
      const node: DepartmentNode = { id: d.id, name: d.name, order: Number.isFinite(d.order) ? d.order : 0, rebuilt: false };
      if (d.parentId !== undefined && d.parentId !== '') node.parentId = d.parentId;
      departments.set(d.id, node);
    } else {
      departments.delete(d.id);
      goneDepartments.add(d.id);
    }
  }
  const deletedPeople = new Set<string>();
  if (source.kind === 'changes') {
    for (const id of source.changes.deletedDepartmentIds) {
      departments.delete(id);
      goneDepartments.add(id);
    }
    for (const id of source.changes.deletedPersonIds) deletedPeople.add(id);
  }
  const seenPeople = new Set<string>();
  for (const p of people) {
    if (typeof p.id !== 'string' || p.id === '') problems.push('a person has an empty id');
    else if (seenPeople.has(p.id)) problems.push(`person id ${p.id} appears twice`);
    seenPeople.add(p.id);
  }
  if (problems.length > 0) throw new SyncPlanInputError(problems.slice(0, 50));
  return { mode, authoritative, departments, goneDepartments, people, deletedPeople };
}

export type ScopeState = 'in' | 'out' | 'unknown';

export interface DepartmentScope {
  state: Map<string, ScopeState>;
  /** For in-scope departments: the in-scope parent, or undefined for a top-level unit. */
  unitParent: Map<string, string | undefined>;
  /** In-scope departments whose source parent is missing (treated as top-level). */
  orphans: string[];
  /** Depth in the in-scope tree (0 = top-level unit). */
  depth: Map<string, number>;
  /** Departments in a parent cycle (or their own parent) and everything below them: state `unknown` (department-quarantine.ts). */
  quarantined: Map<string, QuarantineReason>;
}

/**
 * Which departments are in scope. A department is in scope when neither it nor an
 * ancestor is excluded and, if includeDepartments is non-empty, it or an ancestor is
 * included. A cycle in the source's parent links (or a department that is its own parent)
 * quarantines that subtree: its state is `unknown`, so it and its people are left as they
 * are, while the rest of the tenant is planned (department-quarantine.ts).
 *
 * Where the walk up meets a parent this run does not know: a complete snapshot treats the
 * department as a root (an orphan, reported); a partial or change run accepts the boundary
 * only where the mapping state says the unit was top-level under that same source parent,
 * and otherwise answers `unknown` (the department and its people are left as they are).
 */
export function resolveDepartmentScope(universe: SourceUniverse, settings: Pick<SyncSettings, 'includeDepartments' | 'excludeDepartments'>, activeUnits: ReadonlyMap<string, UnitMapping>): DepartmentScope {
  const include = new Set(settings.includeDepartments);
  const exclude = new Set(settings.excludeDepartments);
  const state = new Map<string, ScopeState>();
  const orphans: string[] = [];
  const { departments } = universe;

  const quarantined = findQuarantined(departments);
  for (const id of quarantined.keys()) state.set(id, 'unknown');
  // Depth in the source tree (as far as this run knows it), so the pass below sees every
  // parent before its children. Quarantined departments are left out: their walk up never ends.
  const sourceDepth = new Map<string, number>();
  for (const start of departments.keys()) {
    if (quarantined.has(start)) continue;
    const path: string[] = [];
    let id: string | undefined = start;
    while (id !== undefined && departments.has(id) && !sourceDepth.has(id)) {
      path.push(id);
      id = departments.get(id)!.parentId;
    }
    let d = id !== undefined && sourceDepth.has(id) ? sourceDepth.get(id)! + 1 : 0;
    for (let i = path.length - 1; i >= 0; i--) sourceDepth.set(path[i]!, d++);
  }
  const order = [...sourceDepth.keys()].sort((a, b) => sourceDepth.get(a)! - sourceDepth.get(b)!);

  // Top-down. 'undecided' = includes exist but neither this department nor an ancestor is
  // included: out of scope itself, while an included descendant is still in.
  const inheritedOf = new Map<string, ScopeState | 'undecided'>();
  for (const id of order) {
    const node = departments.get(id)!;
    let inherited: ScopeState | 'undecided';
    if (node.parentId === undefined) inherited = 'undecided';
    else if (departments.has(node.parentId)) inherited = inheritedOf.get(node.parentId)!;
    else if (universe.authoritative) {
      orphans.push(id);
      inherited = 'undecided';
    } else {
      const m = activeUnits.get(id);
      inherited = m && m.parentUnitId === undefined && m.parentSourceId === node.parentId ? 'undecided' : 'unknown';
    }
    let s: ScopeState | 'undecided';
    if (inherited === 'out' || inherited === 'unknown') s = inherited;
    else if (exclude.has(id)) s = 'out';
    else if (inherited === 'in' || include.size === 0 || include.has(id)) s = 'in';
    else s = 'undecided';
    inheritedOf.set(id, s);
    state.set(id, s === 'undecided' ? 'out' : s);
  }

  const unitParent = new Map<string, string | undefined>();
  const depth = new Map<string, number>();
  for (const id of order) {
    if (state.get(id) !== 'in') continue;
    const parentId = departments.get(id)!.parentId;
    const parentIn = parentId !== undefined && state.get(parentId) === 'in';
    unitParent.set(id, parentIn ? parentId : undefined);
    depth.set(id, parentIn ? depth.get(parentId)! + 1 : 0);
  }
  return { state, unitParent, orphans: orphans.filter((id) => state.get(id) === 'in'), depth, quarantined };
}
