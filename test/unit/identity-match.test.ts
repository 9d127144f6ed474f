/** Matching channel users to source people by the tenant's ordered rules (shared/domain/identity-match.ts). */
import { describe, expect, it } from 'vitest';
import type { Person } from '../../shared/domain/directory';
import { matchChannel, matchUser, parseMatchRules, SourceIndex, type ChannelUser } from '../../shared/domain/identity-match';

const p = (id: string, over: Partial<Person> = {}): Person => ({ id, displayName: id, departmentIds: [], status: 'active', ...over });
const u = (userId: string, over: Partial<ChannelUser> = {}): ChannelUser => ({ userId, active: true, ...over });
const RULES = parseMatchRules(['jobNumber', 'mobile', 'email', 'userid=loginName']);
const people = [
  p('ekp-1', { jobNumber: 'E001', mobile: '13800000001', email: 'a@x.com', loginName: 'zhangsan' }),
  p('ekp-2', { jobNumber: 'E002', mobile: '13800000002' }),
  p('ekp-3', { mobile: '13900000009' }),
  p('ekp-4', { mobile: '13900000009' }),
  p('ekp-5', { jobNumber: 'E005', status: 'left' }),
];
const index = new SourceIndex(people, RULES);

describe('identity matching', () => {
  it('links by the first rule that finds exactly one person', () => {
    expect(matchUser(u('d1', { jobNumber: 'E001', mobile: '13800000002' }), RULES, index)).toEqual({ status: 'linked', personId: 'ekp-1', rule: 'jobNumber' });
  });

  it('falls through to the next rule when the user has no value or nobody has it', () => {
    expect(matchUser(u('d2', { jobNumber: 'NOPE', mobile: '+86 138-0000-0002' }), RULES, index)).toEqual({ status: 'linked', personId: 'ekp-2', rule: 'mobile' });
    expect(matchUser(u('ZhangSan'), RULES, index)).toEqual({ status: 'linked', personId: 'ekp-1', rule: 'userid=loginName' });
    expect(matchUser(u('d3', { email: 'A@X.COM' }), RULES, index)).toMatchObject({ status: 'linked', personId: 'ekp-1', rule: 'email' });
  });

  it('reports two candidates as ambiguous and never asks a later rule to break the tie', () => {
    expect(matchUser(u('d4', { mobile: '8613900000009', email: 'a@x.com' }), RULES, index)).toEqual({ status: 'ambiguous', rule: 'mobile', candidates: ['ekp-3', 'ekp-4'] });
  });

  it('leaves people who left out, and a user nobody matches unmatched', () => {
    expect(matchUser(u('d5', { jobNumber: 'E005' }), RULES, index)).toEqual({ status: 'unmatched' });
    expect(matchUser(u('d6'), RULES, index)).toEqual({ status: 'unmatched' });
  });

  it('makes two users of one channel on the same person both ambiguous', () => {
    const out = matchChannel([u('a', { jobNumber: 'E002' }), u('b', { mobile: '13800000002' }), u('c', { jobNumber: 'E001' })], RULES, index);
    expect(out.get('a')).toMatchObject({ status: 'ambiguous', candidates: ['ekp-2'] });
    expect(out.get('b')).toMatchObject({ status: 'ambiguous', candidates: ['ekp-2'] });
    expect(out.get('c')).toMatchObject({ status: 'linked', personId: 'ekp-1' });
  });

  it('refuses a rule it does not know', () => {
    expect(() => parseMatchRules(['jobNumber', 'shoeSize'])).toThrow(/shoeSize/);
    expect(() => parseMatchRules(['a=b=c'])).toThrow();
  });
});
