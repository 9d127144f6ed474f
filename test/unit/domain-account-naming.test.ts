import { describe, expect, it } from 'vitest';
import { assignAccountNames, compareIds, deriveAccountName, isValidAccountName } from '../../shared/domain/account-naming';
import { desiredProfile, normalizeMobile, profileHash } from '../../shared/domain/account-profile';

describe('deriveAccountName', () => {
  it('takes the lowercased local part of the email under the emailLocalPart rule', () => {
    expect(deriveAccountName({ email: ' Zhang.San@Acme.com ' }, 'emailLocalPart')).toEqual({ ok: true, name: 'zhang.san' });
  });

  it('takes the login name, or its local part when it is an address', () => {
    expect(deriveAccountName({ loginName: 'LiSi' }, 'loginName')).toEqual({ ok: true, name: 'lisi' });
    expect(deriveAccountName({ loginName: 'wang@corp.local' }, 'loginName')).toEqual({ ok: true, name: 'wang' });
  });

  it('takes the job number under the jobNumber rule', () => {
    expect(deriveAccountName({ jobNumber: 'E-0042' }, 'jobNumber')).toEqual({ ok: true, name: 'e-0042' });
  });

  it('reports a missing field as noAccountName and a malformed one as invalidAccountName', () => {
    expect(deriveAccountName({}, 'emailLocalPart')).toMatchObject({ ok: false, problem: 'noAccountName' });
    expect(deriveAccountName({ email: 'not-an-address' }, 'emailLocalPart')).toMatchObject({ ok: false, problem: 'invalidAccountName' });
    expect(deriveAccountName({ loginName: '张三' }, 'loginName')).toMatchObject({ ok: false, problem: 'invalidAccountName' });
  });

  it('accepts only names NetEase integrations are known to take', () => {
    for (const ok of ['a', 'zhangsan', 'zhang.san', 'e_01-2', '007']) expect(isValidAccountName(ok)).toBe(true);
    for (const bad of ['', '.a', 'a.', 'a..b', 'A', 'a b', 'a+b', 'x'.repeat(65), '张三']) expect(isValidAccountName(bad)).toBe(false);
  });
});

describe('assignAccountNames', () => {
  it('gives the plain name to the lowest source id and numbered names to the rest', () => {
    const r = assignAccountNames([{ sourceId: '30', base: 'li' }, { sourceId: '4', base: 'li' }, { sourceId: '100', base: 'li' }], new Map());
    expect([...r.names]).toEqual([['4', 'li'], ['30', 'li2'], ['100', 'li3']]);
  });

  it('skips names already held by mapped people and unmanaged mailboxes', () => {
    const held = new Map([['li', { kind: 'mapped' as const, sourceId: '1' }], ['li2', { kind: 'netease' as const }]]);
    const r = assignAccountNames([{ sourceId: '9', base: 'li' }], held);
    expect(r.names.get('9')).toBe('li3');
    expect(r.collisions).toEqual([{ base: 'li', heldBy: 'mapped', assigned: [{ sourceId: '9', accountName: 'li3' }] }]);
  });

  it('gives the same answer whatever the input order', () => {
    const reqs = ['7', '3', '12', '1'].map((id) => ({ sourceId: id, base: 'x' }));
    const a = assignAccountNames(reqs, new Map());
    const b = assignAccountNames([...reqs].reverse(), new Map());
    expect([...a.names].sort()).toEqual([...b.names].sort());
  });

  it('orders numeric ids numerically and other ids by code unit', () => {
    expect(['10', '9', 'b', 'a', '100'].sort(compareIds)).toEqual(['9', '10', '100', 'a', 'b']);
  });
});

describe('account profile', () => {
  it('normalises Chinese mobile spellings to one form', () => {
    for (const m of ['+86 138-0000-0001', '0086 13800000001', '8613800000001', '(138) 0000 0001']) expect(normalizeMobile(m)).toBe('13800000001');
    expect(normalizeMobile('+1 415 555 0100')).toBe('+14155550100');
    expect(normalizeMobile('  ')).toBeUndefined();
  });

  it('hashes only what NetEase receives, so equal profiles hash equal', () => {
    const a = desiredProfile({ displayName: 'Ann ', mobile: '+86 13800000001', jobNumber: ' E1 ' }, 'ann');
    const b = desiredProfile({ displayName: 'Ann', mobile: '13800000001', jobNumber: 'E1' }, 'ann');
    expect(a).toEqual({ nickname: 'Ann', mobile: '13800000001', jobNo: 'E1' });
    expect(profileHash(a)).toBe(profileHash(b));
    expect(profileHash({ ...b, jobNo: 'E2' })).not.toBe(profileHash(b));
    expect(desiredProfile({ displayName: ' ' }, 'ann').nickname).toBe('ann');
  });
});
