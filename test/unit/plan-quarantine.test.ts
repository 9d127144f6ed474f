/**
 * Bad directory data is quarantined, not fatal (recovery issue, Build 2): a department that
 * is its own parent or in a parent cycle quarantines only its subtree; names lose control
 * characters and are cut; malformed mobiles are dropped; a missing department is noted.
 */
import { describe, expect, it } from 'vitest';
import { checkMobile, cleanName, NICKNAME_MAX_CHARS, UNIT_NAME_MAX_CHARS } from '../../shared/domain/profile-rules';
import type { SyncPlan } from '../../shared/domain/sync-plan';
import { dept, person, snapshot, World } from './plan-harness';

const notesOf = (plan: SyncPlan, code: string) => plan.report.notes.filter((n) => n.code === code);

describe('planSync: quarantine of department cycles', () => {
  it('plans the rest of the tenant when a department is its own parent, and leaves its subtree and people alone', () => {
    const w = new World();
    const good = [dept('1', 'HQ'), dept('2', 'Sales', '1')];
    w.sync(snapshot([...good, dept('9', 'Loop')], [person('1', 'ann', ['2']), person('2', 'bob', ['9']), person('3', 'cat', ['1'])]));
    const bobMailbox = w.netease.accounts.get('bob');
    expect(bobMailbox).toBeDefined();

    // Loop becomes its own parent, Sub hangs below it; ann leaves; a new hire joins HQ.
    const plan = w.sync(snapshot([...good, dept('9', 'Loop', '9'), dept('10', 'Sub', '9')], [person('2', 'bob', ['9'], { displayName: 'Bob Renamed' }), person('3', 'cat', ['1']), person('4', 'dan', ['1']), person('5', 'eve', ['10'])]));

    const kinds = plan.operations.map((o) => `${o.kind} ${o.sourceId}`).sort();
    expect(kinds).toEqual(['account.create 4', 'account.suspend 1']);
    expect(w.netease.accounts.get('ann')?.status).toBe('suspended');
    expect(w.netease.accounts.get('bob')).toEqual(bobMailbox); // unchanged: not renamed, not moved, not suspended
    expect(w.netease.accounts.has('eve')).toBe(false);
    const q = notesOf(plan, 'departmentQuarantined');
    expect(q.filter((n) => n.type === 'department').map((n) => n.sourceId).sort()).toEqual(['10', '9']);
    expect(q.find((n) => n.sourceId === '9')?.detail).toMatch(/its own parent/);
    expect(q.filter((n) => n.type === 'person').map((n) => n.sourceId).sort()).toEqual(['2', '5']);
  });

  it('lists every cycle of the run at once, and keeps the units of cycle members in place', () => {
    const w = new World();
    w.sync(snapshot([dept('1', 'A'), dept('2', 'B', '1'), dept('3', 'C'), dept('4', 'D', '3'), dept('5', 'E')], [person('1', 'ann', ['2'])]));
    const units = new Map(w.netease.units);
    const plan = w.sync(snapshot([dept('1', 'A', '2'), dept('2', 'B', '1'), dept('3', 'C', '4'), dept('4', 'D', '3'), dept('5', 'E2')], [person('1', 'ann', ['2'])]));
    expect(plan.operations.map((o) => o.kind)).toEqual(['unit.update']); // only E's rename
    const q = notesOf(plan, 'departmentQuarantined').filter((n) => n.type === 'department');
    expect(q.map((n) => n.sourceId).sort()).toEqual(['1', '2', '3', '4']);
    expect(q.find((n) => n.sourceId === '3')?.detail).toMatch(/parent cycle \(3 -> 4\)/);
    for (const [id, u] of units) if (u.name !== 'E') expect(w.netease.units.get(id)).toEqual(u);
  });
});

describe('planSync: names and mobiles are cleaned before they reach NetEase', () => {
  it('removes control characters from names, cuts long ones, and notes both', () => {
    const w = new World();
    const longName = '张'.repeat(50);
    const plan = w.sync(snapshot([dept('1', 'Sales\u0000\u0007 Dept'), dept('2', 'D'.repeat(60))], [person('1', 'ann', ['1'], { displayName: 'Ann\u0000\u001b[31m Lee\u200b' }), person('2', 'bob', ['2'], { displayName: longName })]));
    const names = [...w.netease.units.values()].map((u) => u.name).sort();
    expect(names).toEqual(['D'.repeat(UNIT_NAME_MAX_CHARS), 'Sales Dept']);
    expect(w.netease.accounts.get('ann')?.nickname).toBe('Ann[31m Lee');
    expect(w.netease.accounts.get('bob')?.nickname).toBe('张'.repeat(NICKNAME_MAX_CHARS));
    expect(notesOf(plan, 'nameCleaned').map((n) => `${n.type} ${n.sourceId}`).sort()).toEqual(['department 1', 'department 2', 'person 1', 'person 2']);
    // Unchanged source: nothing to do, no churn from the cleaning.
    expect(w.plan(snapshot([dept('1', 'Sales\u0000\u0007 Dept'), dept('2', 'D'.repeat(60))], [person('1', 'ann', ['1'], { displayName: 'Ann\u0000\u001b[31m Lee\u200b' }), person('2', 'bob', ['2'], { displayName: longName })])).operations).toEqual([]);
  });

  it('drops malformed mobiles (never sent) with a note that does not repeat the number, and keeps valid ones normalised', () => {
    const w = new World();
    const people = [
      person('1', 'a1', [], { mobile: 'abc' }),
      person('2', 'a2', [], { mobile: '1'.repeat(200) }),
      person('3', 'a3', [], { mobile: '１３８００１３８０００' }), // full-width digits: NFKC, then valid
      person('4', 'a4', [], { mobile: '+86 139-0000-0000' }),
      person('5', 'a5', [], { mobile: '+44 20 7946 0958' }),
      person('6', 'a6', [], { mobile: '12345' }),
    ];
    const plan = w.sync(snapshot([], people));
    const mobile = (n: string) => w.netease.accounts.get(n)?.mobile;
    expect([mobile('a1'), mobile('a2'), mobile('a3'), mobile('a4'), mobile('a5'), mobile('a6')]).toEqual([undefined, undefined, '13800138000', '13900000000', '+442079460958', undefined]);
    const dropped = notesOf(plan, 'mobileDropped');
    expect(dropped.map((n) => n.sourceId).sort()).toEqual(['1', '2', '6']);
    for (const n of dropped) expect(n.detail).not.toMatch(/abc|11111|12345/);
  });

  it('notes a person whose departments are all missing from the source (placed in the default unit)', () => {
    const w = new World();
    const plan = w.sync(snapshot([dept('1', 'HQ')], [person('1', 'ann', ['404']), person('2', 'bob', [])]));
    expect(w.netease.accounts.get('ann')?.unitId).toBe('default');
    expect(notesOf(plan, 'departmentMissing').map((n) => n.sourceId)).toEqual(['1']);
    expect(notesOf(plan, 'departmentMissing')[0]!.detail).toMatch(/404/);
  });
});

describe('profile rules', () => {
  it('validates mobiles by the documented rule', () => {
    expect(checkMobile('13800000000')).toEqual({ ok: true, value: '13800000000' });
    expect(checkMobile('0086 13800000000')).toEqual({ ok: true, value: '13800000000' });
    expect(checkMobile('＋８６１３８００００００００')).toEqual({ ok: true, value: '13800000000' });
    expect(checkMobile('+1 (415) 555-0100')).toEqual({ ok: true, value: '+14155550100' });
    expect(checkMobile('+86 12345678')).toMatchObject({ ok: false }); // +86 must be a mainland mobile
    expect(checkMobile('10800000000')).toMatchObject({ ok: false });
    expect(checkMobile('abc')).toEqual({ ok: false, reason: 'not a number' });
    expect(checkMobile('+1234567890123456')).toMatchObject({ ok: false }); // 16 digits: over E.164
  });

  it('turns a tab or line break inside a name into a space', () => {
    expect(cleanName('Ann\tLee\r\n', 32)).toEqual({ value: 'Ann Lee', changes: ['controlCharacters'] });
    expect(cleanName(' plain ', 32)).toEqual({ value: 'plain', changes: [] });
  });
});
