import { describe, expect, it } from 'vitest';
import { buildSourceUniverse, resolveDepartmentScope } from '../../shared/domain/source-view';
import type { UnitMapping } from '../../shared/domain/sync-plan';
import { dept, snapshot } from './plan-harness';

const tree = [dept('1', 'Root'), dept('2', 'A', '1'), dept('3', 'A1', '2'), dept('4', 'B', '1'), dept('5', 'B1', '4')];
const none = new Map<string, UnitMapping>();

function scopeOf(include: string[], exclude: string[]) {
  const u = buildSourceUniverse({ kind: 'snapshot', snapshot: snapshot(tree, []) }, none, none);
  return resolveDepartmentScope(u, { includeDepartments: include, excludeDepartments: exclude }, none);
}

describe('department scope', () => {
  it('takes the whole organisation when no filter is set', () => {
    expect([...scopeOf([], []).state.values()].every((s) => s === 'in')).toBe(true);
  });

  it('takes included subtrees, with the included department at the top level', () => {
    const s = scopeOf(['2'], []);
    expect(Object.fromEntries(s.state)).toEqual({ '1': 'out', '2': 'in', '3': 'in', '4': 'out', '5': 'out' });
    expect(s.unitParent.get('2')).toBeUndefined();
    expect(s.unitParent.get('3')).toBe('2');
  });

  it('lets an exclusion win inside an included subtree', () => {
    expect(Object.fromEntries(scopeOf(['1'], ['4']).state)).toEqual({ '1': 'in', '2': 'in', '3': 'in', '4': 'out', '5': 'out' });
  });

  it('places a department whose parent is missing from a complete snapshot at the top level, and reports it', () => {
    const u = buildSourceUniverse({ kind: 'snapshot', snapshot: snapshot([dept('9', 'Lost', '404')], []) }, none, none);
    const s = resolveDepartmentScope(u, { includeDepartments: [], excludeDepartments: [] }, none);
    expect(s.state.get('9')).toBe('in');
    expect(s.orphans).toEqual(['9']);
  });

  it('rebuilds departments a change feed does not mention from the mapping state', () => {
    const m: UnitMapping = { sourceId: '2', unitId: 'u2', name: 'A', sourceName: 'A', status: 'active' };
    const units = new Map([['2', m]]);
    const u = buildSourceUniverse(
      { kind: 'changes', changes: { departments: [dept('7', 'New', '2')], people: [], deletedDepartmentIds: [], deletedPersonIds: [], watermarks: {} } },
      units,
      new Map([['u2', m]]),
    );
    expect(u.departments.get('2')).toMatchObject({ name: 'A', rebuilt: true });
    expect(resolveDepartmentScope(u, { includeDepartments: [], excludeDepartments: [] }, units).state.get('7')).toBe('in');
  });
});
