import { ValidationError } from '../errors/app-error';
import type { HttpEvent } from './http-handler';

/**
 * The query string as single values. A parameter given twice is refused (parameter
 * pollution: which copy was signed?). Uses form decoding (`+` is a space), which is right
 * for links built by browsers and URLSearchParams; WeCom callbacks parse their raw query
 * separately because their signatures depend on `+`.
 */
export function singleQuery(event: HttpEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(event.rawQueryString ?? '')) {
    if (k in out) throw new ValidationError(`Query parameter "${k.slice(0, 32)}" is given more than once.`, { code: 'REQUEST.DUPLICATE_PARAM' });
    out[k] = v;
  }
  return out;
}
