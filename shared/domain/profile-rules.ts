/**
 * What may be sent to NetEase as a name or a mobile number. Source systems hand us control
 * characters in names (pasted from spreadsheets), 200-digit "mobiles", `abc`, full-width
 * digits; NetEase got them unchanged. Pure.
 *
 * Names. Control characters (C0, DEL, C1) and zero-width / bidi formatting characters are
 * removed, runs of whitespace become one space, and the name is cut to a length limit.
 * NetEase documents no length limits for `nickname` or `unit_name` (reference
 * netease-qiye-api.md is silent), so the limits here are OUR conservative choice, well
 * under what the NetEase console accepts in practice: 32 characters (code points) for a
 * person's display name and a job number, 40 for a unit name (the planner may add a
 * "(parent)" suffix to tell same-name departments apart; the suffix is not cut).
 *
 * Mobiles. Our rule (the reference gives none): the number is NFKC-normalised (full-width
 * digits and plus sign become ASCII), spaces, dashes, dots and brackets are dropped, then
 * - mainland China: 11 digits starting 1[3-9], optionally prefixed +86, 0086 or 86;
 *   stored and sent without the prefix (13800000000);
 * - elsewhere: `+` or `00`, a country code not 86, and 7 to 15 digits in all (E.164's
 *   maximum); stored and sent as +<digits>.
 * Anything else is dropped (not sent; the run notes it). An existing NetEase mobile is
 * left as NetEase has it (the client never sends an empty mobile).
 */

export const NICKNAME_MAX_CHARS = 32;
export const JOB_NUMBER_MAX_CHARS = 32;
export const UNIT_NAME_MAX_CHARS = 40;

// C0 controls, DEL, C1 controls; zero-width and bidi formatting characters; BOM.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

export interface CleanedName {
  value: string;
  /** The name lost characters (`controlCharacters`) and/or was cut (`truncated`). */
  changes: Array<'controlCharacters' | 'truncated'>;
}

/** `raw` without control/invisible characters (a tab or line break becomes a space), trimmed, cut to `maxChars` code points. */
export function cleanName(raw: string, maxChars: number): CleanedName {
  const changes: CleanedName['changes'] = [];
  if (new RegExp(INVISIBLE.source).test(raw.trim())) changes.push('controlCharacters');
  let value = raw.replace(/[\t\n\r\v\f]+/g, ' ').replace(INVISIBLE, '').trim();
  const chars = [...value];
  if (chars.length > maxChars) {
    value = chars.slice(0, maxChars).join('').trim();
    changes.push('truncated');
  }
  return { value, changes };
}

export type MobileCheck = { ok: true; value: string } | { ok: false; reason: string };

/** Validate and normalise a mobile number by the rule in the module doc. */
export function checkMobile(raw: string): MobileCheck {
  const s = raw.normalize('NFKC').trim().replace(/[\s\-().]/g, '');
  if (s === '') return { ok: false, reason: 'empty' };
  if (s.length > 20) return { ok: false, reason: 'too long' };
  let m = /^(?:\+86|0086|86)?(1[3-9]\d{9})$/.exec(s);
  if (m) return { ok: true, value: m[1]! };
  m = /^(?:\+|00)([1-9]\d{6,14})$/.exec(s);
  if (m && !m[1]!.startsWith('86')) return { ok: true, value: `+${m[1]!}` };
  return { ok: false, reason: /^[+0-9]+$/.test(s) ? 'not a mainland or +country number' : 'not a number' };
}
