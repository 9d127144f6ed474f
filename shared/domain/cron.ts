/**
 * Five-field cron expressions (`minute hour day-of-month month day-of-week`) evaluated in an
 * IANA time zone: what a tenant writes in its config (`sync.schedule.fullCron`), what the
 * local scheduler matches minute by minute, and what the deployment turns into an
 * EventBridge Scheduler expression (with the time zone) or, where Scheduler is not
 * offered, an EventBridge rule in UTC (fixed-offset zones only).
 *
 * Supported: `*`, numbers, lists `1,15`, ranges `1-5`, steps `*\/15` and `10-50/10`;
 * day-of-week 0-7 (0 and 7 = Sunday). As in Vixie cron, when both day fields are
 * restricted a day matches either. Pure: no I/O, no clock.
 *
 * Hand-written, not cron-parser or croner: shared/domain imports no packages (dependency-cruiser
 * rule `domain-is-pure`), and the tenant config schema, the local scheduler and infra's AWS cron
 * rewrite all use this one parser. Time zones come from the runtime's Intl, so ~130 lines suffice.
 */

export interface CronExpression {
  /** The five fields as written. */
  source: [string, string, string, string, string];
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday. */
  daysOfWeek: ReadonlySet<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

export class CronSyntaxError extends Error {}

const RANGES: ReadonlyArray<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

function field(text: string, i: number): Set<number> {
  const [lo, hi] = RANGES[i]!;
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/.exec(part);
    if (!m) throw new CronSyntaxError(`${NAMES[i]} "${part}" is not a number, range, list or step`);
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? hi : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1) throw new CronSyntaxError(`${NAMES[i]} "${part}" is outside ${lo}-${hi}`);
    for (let v = from; v <= to; v += step) out.add(i === 4 && v === 7 ? 0 : v);
  }
  return out;
}

/** Parse `m h dom mon dow`. @throws CronSyntaxError naming the field at fault. */
export function parseCron(expr: string): CronExpression {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new CronSyntaxError(`"${expr}" must have 5 fields (minute hour day-of-month month day-of-week)`);
  const [mi, h, dom, mon, dow] = parts.map((p, i) => field(p, i)) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return {
    source: parts as CronExpression['source'],
    minutes: mi,
    hours: h,
    daysOfMonth: dom,
    months: mon,
    daysOfWeek: dow,
    domRestricted: parts[2] !== '*',
    dowRestricted: parts[4] !== '*',
  };
}

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of `ms` in `timeZone`. @throws RangeError for an unknown zone. */
export function zonedParts(ms: number, timeZone: string): ZonedParts {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour) % 24,
    minute: Number(p.minute),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(String(p.weekday)),
  };
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    zonedParts(0, timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Whether the minute containing `ms` matches `cron` in `timeZone`. */
export function cronMatches(cron: CronExpression, ms: number, timeZone: string): boolean {
  const p = zonedParts(ms, timeZone);
  if (!cron.minutes.has(p.minute) || !cron.hours.has(p.hour) || !cron.months.has(p.month)) return false;
  const dom = cron.daysOfMonth.has(p.day);
  const dow = cron.daysOfWeek.has(p.weekday);
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  return dom && dow;
}

/** Times (minute starts, ms) in [from, to) at which `cron` fires in `timeZone`. */
export function cronOccurrences(cron: CronExpression, timeZone: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(from / 60_000) * 60_000; t < to; t += 60_000) if (cronMatches(cron, t, timeZone)) out.push(t);
  return out;
}

/** The zone's UTC offset in minutes when it has no daylight saving (same in January and July), else undefined. */
export function fixedOffsetMinutes(timeZone: string): number | undefined {
  const offset = (ms: number): number => {
    const p = zonedParts(ms, timeZone);
    return Math.round((Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - ms) / 60_000);
  };
  const jan = offset(Date.UTC(2026, 0, 15));
  const jul = offset(Date.UTC(2026, 6, 15));
  return jan === jul ? jan : undefined;
}
