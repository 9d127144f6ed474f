import { describe, expect, it } from 'vitest';
import { assignUnitNames, matchUnitNameCandidate, unitNameCandidates, unitNameKey } from '../../shared/domain/unit-naming';

describe('unit names', () => {
  it('offers the plain name, then ancestor suffixes nearest first', () => {
    expect(unitNameCandidates('销售部', ['广州', '华南', '总部', '集团'])).toEqual(['销售部', '销售部(广州)', '销售部(华南-广州)', '销售部(总部-华南-广州)']);
  });

  it('compares names without regard to case, width or spacing', () => {
    expect(unitNameKey(' IT  部 ')).toBe(unitNameKey('it 部'));
    expect(unitNameKey('销售部（华南）')).toBe(unitNameKey('销售部(华南)'));
  });

  it('hands out every plain name before any suffix', () => {
    const r = assignUnitNames(
      [
        { sourceId: 'a', base: '销售部', ancestors: ['华东'] },
        { sourceId: 'b', base: '销售部', ancestors: ['华南'] },
        { sourceId: 'c', base: '销售部(华南)', ancestors: ['总部'] },
      ],
      new Set(),
    );
    // b's only suffix, 销售部(华南), is c's own name: b falls back to a number.
    expect([...r.names]).toEqual([['a', '销售部'], ['c', '销售部(华南)'], ['b', '销售部(2)']]);
  });

  it('lets a mapped department keep a still-valid name even if it has a lower priority', () => {
    const r = assignUnitNames(
      [
        { sourceId: 'new', base: 'Ops', ancestors: ['HQ'] },
        { sourceId: 'old', base: 'Ops', ancestors: ['Branch'], current: 'Ops' },
      ],
      new Set(),
    );
    expect(r.names.get('old')).toBe('Ops');
    expect(r.names.get('new')).toBe('Ops(HQ)');
  });

  it('drops a name that is no longer one of the department\'s candidates', () => {
    expect(matchUnitNameCandidate('Ops(HQ)', 'Ops', ['Head office'])).toBeUndefined();
    expect(matchUnitNameCandidate('ops(3)', 'Ops', [])).toBe('Ops(3)');
    expect(matchUnitNameCandidate('IT', 'it', [])).toBe('it');
  });

  it('never gives out a reserved name', () => {
    const r = assignUnitNames([{ sourceId: 'a', base: 'Ops', ancestors: [] }], new Set([unitNameKey('Ops'), unitNameKey('Ops(2)')]));
    expect(r.names.get('a')).toBe('Ops(3)');
  });
});
