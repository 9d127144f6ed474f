/**
 * Vendors limit message fields in UTF-8 bytes, not characters (DingTalk §6: the whole msg
 * ≤ 2048 bytes; WeCom §6: textcard title ≤ 128, description ≤ 512): cut to fit.
 */

/** Cut `s` to at most `maxBytes` UTF-8 bytes on a character boundary, marking the cut with "…". */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  return out + ellipsis;
}
