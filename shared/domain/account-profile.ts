/**
 * The account fields the bridge sends to NetEase (nickname, mobile, job_no) and their
 * content hash. The mapping state keeps only the hash, so "unchanged" is decided without
 * storing anyone's mobile number, and an unchanged person costs no NetEase call.
 */
import type { Person } from './directory';
import type { AccountProfile, NeteaseAccountRecord } from './sync-plan';
import { hashFields } from './content-hash';
import { checkMobile, cleanName, JOB_NUMBER_MAX_CHARS, NICKNAME_MAX_CHARS } from './profile-rules';

/**
 * A mobile number in one spelling, so "+86 138-0000-0000" and "13800000000" compare and
 * hash equal: spaces, dashes and brackets dropped, a Chinese country prefix (+86, 0086, 86
 * before 11 digits) removed. Other international numbers keep their leading '+'.
 */
export function normalizeMobile(mobile: string | undefined): string | undefined {
  if (mobile === undefined) return undefined;
  let s = mobile.trim().replace(/[\s\-().（）]/g, '');
  if (s.startsWith('+86')) s = s.slice(3);
  else if (s.startsWith('0086')) s = s.slice(4);
  else if (/^86\d{11}$/.test(s)) s = s.slice(2);
  return s === '' ? undefined : s;
}

function clean(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** Something the source gave that is not sent as is (the planner notes it on the person). */
export interface ProfileIssue {
  code: 'nameCleaned' | 'mobileDropped';
  detail: string;
}

/**
 * What the bridge wants NetEase to hold for `person` (names cleaned and cut, a malformed
 * mobile dropped: profile-rules.ts), and what was changed on the way. The nickname falls
 * back to the account name.
 */
export function checkedProfile(person: Pick<Person, 'displayName' | 'mobile' | 'jobNumber'>, accountName: string): { profile: AccountProfile; issues: ProfileIssue[] } {
  const issues: ProfileIssue[] = [];
  const name = cleanName(person.displayName ?? '', NICKNAME_MAX_CHARS);
  if (name.changes.length > 0) issues.push({ code: 'nameCleaned', detail: `display name ${describeChanges(name.changes, NICKNAME_MAX_CHARS)}` });
  const profile: AccountProfile = { nickname: name.value === '' ? accountName : name.value };
  if (person.mobile !== undefined && person.mobile.trim() !== '') {
    const m = checkMobile(person.mobile);
    if (m.ok) profile.mobile = m.value;
    // The number itself is personal data: the note says why, never what.
    else issues.push({ code: 'mobileDropped', detail: `mobile number dropped (${m.reason}; ${[...person.mobile].length} characters): not sent to NetEase` });
  }
  const job = cleanName(person.jobNumber ?? '', JOB_NUMBER_MAX_CHARS);
  if (job.changes.length > 0) issues.push({ code: 'nameCleaned', detail: `job number ${describeChanges(job.changes, JOB_NUMBER_MAX_CHARS)}` });
  if (job.value !== '') profile.jobNo = job.value;
  return { profile, issues };
}

function describeChanges(changes: readonly string[], max: number): string {
  return changes.map((c) => (c === 'truncated' ? `cut to ${max} characters` : 'lost control characters')).join(' and ');
}

/** checkedProfile without the issues. */
export function desiredProfile(person: Pick<Person, 'displayName' | 'mobile' | 'jobNumber'>, accountName: string): AccountProfile {
  return checkedProfile(person, accountName).profile;
}

/** What an existing NetEase account holds, in the same form. */
export function neteaseProfile(account: NeteaseAccountRecord): AccountProfile {
  return profileOf(account.nickname, account.accountName, account.mobile, account.jobNo);
}

/** One normalization for both sides, so equal people compare equal: the nickname falls back to the account name. */
function profileOf(nickname: string | undefined, accountName: string, rawMobile: string | undefined, rawJobNo: string | undefined): AccountProfile {
  const profile: AccountProfile = { nickname: clean(nickname) ?? accountName };
  const mobile = normalizeMobile(rawMobile);
  if (mobile !== undefined) profile.mobile = mobile;
  const jobNo = clean(rawJobNo);
  if (jobNo !== undefined) profile.jobNo = jobNo;
  return profile;
}

/** The content hash stored in AccountMapping.profileHash. */
export function profileHash(profile: AccountProfile): string {
  return hashFields(['account-profile/v1', profile.nickname, profile.mobile, profile.jobNo]);
}
