/**
 * The NetEase SSO entry URL (reference netease-qiye-api.md §3): domain, account_name,
 * time (ms), enc = hex SHA1withRSA over account_name + domain + time, lang, and an
 * optional mid (one mail) or module (a folder or module, e.g. `mbox.ListModule|{"fid":1}`).
 */
import { checkMid, checkModule } from './entry-target';

export interface EntrySigner {
  ssoEnc(accountName: string, domain: string, time: number | string): string;
}

export interface EntryTarget {
  mid?: string;
  module?: string;
  lang?: 0 | 1;
}

export function buildEntryUrl(opts: { entryUrl: string; domain: string; accountName: string; now: number; signer: EntrySigner; target?: EntryTarget; defaultLang: 0 | 1 }): string {
  const time = String(opts.now);
  const url = new URL(opts.entryUrl);
  url.searchParams.set('domain', opts.domain);
  url.searchParams.set('account_name', opts.accountName);
  url.searchParams.set('time', time);
  url.searchParams.set('enc', opts.signer.ssoEnc(opts.accountName, opts.domain, time));
  url.searchParams.set('lang', String(opts.target?.lang ?? opts.defaultLang));
  // mid wins over module: opening one mail is the more specific request.
  // Checked again here (callers already did): nothing unchecked reaches a signed entry URL.
  if (opts.target?.mid) url.searchParams.set('mid', checkMid(opts.target.mid));
  else if (opts.target?.module) url.searchParams.set('module', checkModule(opts.target.module));
  // Only ever the tenant's configured entry: the URL is built from it, never from the request.
  return url.toString();
}
