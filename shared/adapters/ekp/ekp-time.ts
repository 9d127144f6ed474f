/**
 * EKP's alterTime strings: `yyyy-MM-dd HH:mm:ss.SSS`, a naive wall-clock time in the EKP
 * server's zone (reference sync-and-ekp.md §A2/§A4).
 *
 * We never convert them to real instants: the feed compares them on the server, so the
 * client only needs to (a) normalise them to one fixed-width form so string order equals
 * time order, and (b) step back one millisecond to turn EKP's strict `>` into `>=`
 * (§A6). Both are done on the naive fields with UTC arithmetic, so the machine's time
 * zone and DST never matter.
 */

const EKP_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

/** Parse an EKP time into naive epoch milliseconds; undefined if malformed. */
export function parseEkpTime(s: string): number | undefined {
  const m = EKP_TIME.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, ms] = m;
  // An old EKP comment omits `.SSS` and the v16.0.5 reader right-pads 1-2 digit
  // milliseconds ("…:05.5" means 500 ms), so pad on the right, not the left.
  const millis = ms === undefined ? 0 : Number(ms.padEnd(3, '0'));
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se), millis);
  if (Number.isNaN(t)) return undefined;
  // Date.UTC rolls month 13 or 25:00 over into the next year/day; EKP would not.
  const back = new Date(t);
  const fields = [back.getUTCFullYear(), back.getUTCMonth() + 1, back.getUTCDate(), back.getUTCHours(), back.getUTCMinutes(), back.getUTCSeconds()];
  return fields.every((f, i) => f === Number([y, mo, d, h, mi, se][i])) ? t : undefined;
}

/** Format naive epoch milliseconds as EKP does: `yyyy-MM-dd HH:mm:ss.SSS`. */
export function formatEkpTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

/** The canonical fixed-width form of an EKP time (string order = time order); undefined if malformed. */
export function normalizeEkpTime(s: string): string | undefined {
  const t = parseEkpTime(s);
  return t === undefined ? undefined : formatEkpTime(t);
}

/**
 * The instant one millisecond before `s`. Sending it as `beginTimeStamp` makes EKP's
 * `fdAlterTime > begin` return every row at `s` again (an inclusive re-read).
 */
export function oneMsBefore(s: string): string {
  const t = parseEkpTime(s);
  if (t === undefined) throw new RangeError('not an EKP time (yyyy-MM-dd HH:mm:ss.SSS)');
  return formatEkpTime(t - 1);
}
