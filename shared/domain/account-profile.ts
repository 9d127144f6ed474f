/**
 * The account fields the bridge sends to NetEase (nickname, mobile, job_no) and their
 * content hash. The mapping state keeps only the hash, so "unchanged" is decided without
 * storing anyone's mobile number, and an unchanged person costs no NetEase call.
 */
import type { Person } from './directory';
import type { AccountProfile, NeteaseAccountRecord } from './sync-plan';
import { hashFields } from './content-hash';

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

/** What the bridge wants NetEase to hold for `person`; the nickname falls back to the account name. */
export function desiredProfile(person: Pick<Person, 'displayName' | 'mobile' | 'jobNumber'>, accountName: string): AccountProfile {
  return profileOf(person.displayName, accountName, person.mobile, person.jobNumber);
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
