/**
 * What the NetEase entry opens after sign-in: one mail (`mid`) or a module (`module`),
 * reference netease-qiye-api.md §3 ("Optional `mid` or `module`, e.g.
 * `mbox.ListModule|{"fid":1,…}`"). Both arrive from the outside (the OA's link, the query of
 * a vendor or CAS round trip) and go into the signed NetEase URL, so both are checked here
 * and anything else is a 400 that names the parameter.
 *
 * Where the reference is silent, these are our choices:
 * - `mid`: the reference gives no alphabet (ids come from `listMessages`, "response
 *   unconfirmed"). NetEase webmail ids seen in the wild look like `1tbiAQAJBlZ...` or
 *   `1:1tbi...`: letters, digits and `: _ - + / = .` (base64 and separators). Nothing else
 *   is accepted (no `&`, `|`, quotes, spaces, `%`), at most 128 characters.
 * - `module`: only module names the reference documents (today `mbox.ListModule`), each
 *   optionally followed by `|` and a flat JSON object of scalar parameters (`{"fid":1}`),
 *   at most 256 characters in all. Add a name here once NetEase documents it.
 */
import { ValidationError } from '../../errors/app-error';

/** Module names documented in the reference (§3). */
export const KNOWN_MODULES = ['mbox.ListModule'] as const;

export const MAX_MID_LENGTH = 128;
export const MAX_MODULE_LENGTH = 256;
const MID = /^[A-Za-z0-9:_\-+/=.]+$/;
const PARAM_KEY = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
const MAX_PARAMS = 16;
const MAX_STRING_PARAM = 128;

function refuse(param: 'mid' | 'module', why: string): never {
  throw new ValidationError(`The ${param} parameter ${why}.`, { code: 'SSO.BAD_TARGET' });
}

/** Throws a 400 unless `mid` is a NetEase mail id (see the module doc). */
export function checkMid(mid: string): string {
  if (mid.length > MAX_MID_LENGTH) refuse('mid', `is longer than ${MAX_MID_LENGTH} characters`);
  if (!MID.test(mid)) refuse('mid', 'may only contain letters, digits and : _ - + / = .');
  return mid;
}

/** Throws a 400 unless `module` is a known module name with optional flat JSON parameters. */
export function checkModule(module: string): string {
  if (module.length > MAX_MODULE_LENGTH) refuse('module', `is longer than ${MAX_MODULE_LENGTH} characters`);
  const bar = module.indexOf('|');
  const name = bar === -1 ? module : module.slice(0, bar);
  if (!(KNOWN_MODULES as readonly string[]).includes(name)) refuse('module', `names an unknown module (known: ${KNOWN_MODULES.join(', ')})`);
  if (bar === -1) return module;
  let params: unknown;
  try {
    params = JSON.parse(module.slice(bar + 1));
  } catch {
    refuse('module', 'has parameters after "|" that are not JSON');
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) refuse('module', 'parameters must be a JSON object such as {"fid":1}');
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length > MAX_PARAMS) refuse('module', `has more than ${MAX_PARAMS} parameters`);
  for (const [k, v] of entries) {
    if (!PARAM_KEY.test(k)) refuse('module', 'has a parameter name that is not a plain identifier');
    const scalar = (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || (typeof v === 'string' && v.length <= MAX_STRING_PARAM && !/[\u0000-\u001f]/.test(v));
    if (!scalar) refuse('module', 'parameters must be numbers, booleans or short strings');
  }
  return module;
}

/** The checked `mid` / `module` of a query or link (empty values count as absent). */
export function entryTargetOf(q: { mid?: string | undefined; module?: string | undefined }): { mid?: string; module?: string } {
  return {
    ...(q.mid ? { mid: checkMid(q.mid) } : {}),
    ...(q.module ? { module: checkModule(q.module) } : {}),
  };
}
