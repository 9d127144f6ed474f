import type { AccountMapping, PlanReport, UnitMapping } from '../sync-plan';
import { compareIds } from '../account-naming';
import { buildSourceUniverse, resolveDepartmentScope, type DepartmentNode, type DepartmentScope, type SourceUniverse } from '../source-view';
import { MAX_SUFFIX_ANCESTORS } from '../unit-naming';
import { cleanName, UNIT_NAME_MAX_CHARS } from '../profile-rules';
import { pushTo, type PlanContext } from './context';

/** Our mapping state, indexed the ways the later stages look it up. */
export interface MappingIndex {
  /** Active unit mappings by department id. */
  activeUnits: Map<string, UnitMapping>;
  /** Active unit mappings by NetEase unit id. */
  unitsByUnitId: Map<string, UnitMapping>;
  /** Account mappings by person id, account names lower-cased. */
  accountMappings: Map<string, AccountMapping>;
  /** Mapped account name -> person id. */
  mappedAccountNames: Map<string, string>;
}

/** Stage 1a, mapping indexes: decides nothing, only indexes what we mapped in earlier runs. */
export function indexMappings(ctx: PlanContext): MappingIndex {
  const activeUnits = new Map<string, UnitMapping>();
  const unitsByUnitId = new Map<string, UnitMapping>();
  for (const u of ctx.input.mappings.units) {
    if (u.status !== 'active') continue;
    activeUnits.set(u.sourceId, u);
    unitsByUnitId.set(u.unitId, u);
  }
  const accountMappings = new Map<string, AccountMapping>();
  for (const a of ctx.input.mappings.accounts) {
    const lower = a.accountName.toLowerCase();
    accountMappings.set(a.sourceId, lower === a.accountName ? a : { ...a, accountName: lower });
  }
  const mappedAccountNames = new Map<string, string>();
  for (const a of accountMappings.values()) mappedAccountNames.set(a.accountName, a.sourceId);
  return { activeUnits, unitsByUnitId, accountMappings, mappedAccountNames };
}

/** The source as the planner sees it: departments in scope, their base names and priority. */
export interface SourceRead {
  universe: SourceUniverse;
  scope: DepartmentScope;
  deletionMode: PlanReport['deletions'];
  /** In-scope departments ("desired"), in scope-map order. */
  desired: string[];
  desiredSet: Set<string>;
  /** Cleaned department name per desired department (the unit name before suffixes). */
  baseName: Map<string, string>;
  /** Desired departments, shallower first, then tree order (source order, then id). */
  priority: string[];
  nodeOf(id: string): DepartmentNode;
  /** Base names of the nearest ancestors (for name suffixes and adoption by path). */
  ancestorsOf(id: string): string[];
}

/**
 * Stage 1b, source view and scope (source-view.ts): decides which departments exist and
 * are in scope, whether this run may compute deletions (only a full snapshot may), the base
 * unit name of every in-scope department and the order in which departments claim names.
 */
export function readSource(ctx: PlanContext, idx: MappingIndex): SourceRead {
  const { note } = ctx;
  const universe = buildSourceUniverse(ctx.input.source, idx.activeUnits, idx.unitsByUnitId);
  const scope = resolveDepartmentScope(universe, ctx.settings, idx.activeUnits);
  const deletionMode: PlanReport['deletions'] = !ctx.deletionsAllowed
    ? { mode: 'withheld', reason: 'withheldByCaller' }
    : universe.mode === 'full'
      ? { mode: 'computed' }
      : { mode: 'withheld', reason: universe.mode === 'partial' ? 'incompleteSnapshot' : 'changesFeed' };
  for (const id of scope.orphans) note('department', id, 'orphanDepartment', 'the parent department is missing from the source; placed at the top level');

  const baseName = new Map<string, string>();
  const nodeOf = (id: string): DepartmentNode => universe.departments.get(id)!;
  const desired: string[] = [];
  for (const [id, state] of scope.state) {
    if (state !== 'in') continue;
    desired.push(id);
    const { value: cleaned, changes } = cleanName(nodeOf(id).name, UNIT_NAME_MAX_CHARS);
    if (cleaned === '') note('department', id, 'unitNameFallback', 'the department has no name; its id is used as the unit name');
    else if (changes.length > 0) note('department', id, 'nameCleaned', `department name ${changes.map((c) => (c === 'truncated' ? `cut to ${UNIT_NAME_MAX_CHARS} characters` : 'lost control characters')).join(' and ')}`);
    baseName.set(id, cleaned === '' ? `dept-${id}` : cleaned);
  }
  const ancestorsOf = (id: string): string[] => {
    const out: string[] = [];
    let p = scope.unitParent.get(id);
    while (p !== undefined && out.length < MAX_SUFFIX_ANCESTORS) {
      out.push(baseName.get(p)!);
      p = scope.unitParent.get(p);
    }
    return out;
  };
  const priority = priorityOrder(desired, scope, nodeOf);
  return { universe, scope, deletionMode, desired, desiredSet: new Set(desired), baseName, priority, nodeOf, ancestorsOf };
}

/** Priority order: shallower first, then tree order (source order, then id). */
function priorityOrder(desired: readonly string[], scope: DepartmentScope, nodeOf: (id: string) => DepartmentNode): string[] {
  const childrenOf = new Map<string | undefined, string[]>();
  for (const id of desired) pushTo(childrenOf, scope.unitParent.get(id), id);
  const bySourceOrder = (a: string, b: string) => nodeOf(a).order - nodeOf(b).order || compareIds(a, b);
  const preorder = new Map<string, number>();
  const stack = [...(childrenOf.get(undefined) ?? [])].sort(bySourceOrder).reverse();
  while (stack.length > 0) {
    const id = stack.pop()!;
    preorder.set(id, preorder.size);
    const kids = childrenOf.get(id);
    if (kids) stack.push(...[...kids].sort(bySourceOrder).reverse());
  }
  return [...desired].sort((a, b) => scope.depth.get(a)! - scope.depth.get(b)! || preorder.get(a)! - preorder.get(b)!);
}
