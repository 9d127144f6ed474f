/**
 * A small 5-field cron (minute hour day-of-month month day-of-week; numbers, `*`, lists,
 * ranges and `/step`) evaluated in an IANA time zone, for per-tenant schedule decisions
 * such as `sync.fullRunCron`. Day-of-month and day-of-week combine as in Vixie cron: when
 * both are restricted, either may match. No names (MON, JAN) and no seconds field.
 */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

interface ParsedCron {
  sets: Array<Set<number>>;
  domStar: boolean;
  dowStar: boolean;
}

function parseField(text: string, f: (typeof FIELDS)[number]): Set<number> | string {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return `${f.name} "${part}" is not a number, range, list or step`;
    const lo = m[1] === '*' ? f.min : Number(m[2]);
    const hi = m[1] === '*' ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? f.max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < f.min || hi > f.max || lo > hi || step < 1) return `${f.name} "${part}" is outside ${f.min}-${f.max}`;
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

function parse(expr: string): ParsedCron | string {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) return 'must have 5 fields: minute hour day-of-month month day-of-week';
  const sets: Array<Set<number>> = [];
  for (let i = 0; i < 5; i++) {
    const r = parseField(parts[i]!, FIELDS[i]!);
    if (typeof r === 'string') return r;
    sets.push(r);
  }
  return { sets, domStar: parts[2] === '*', dowStar: parts[4] === '*' };
}

/** Why `expr` is not a cron this module understands, or undefined when it is. */
export function cronProblem(expr: string): string | undefined {
  const r = parse(expr);
  return typeof r === 'string' ? r : undefined;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * The latest time at or before `now` (ms, whole minutes) at which `expr` fires in `timeZone`,
 * looking back at most `lookBackDays` (default 8: a weekly schedule always has one).
 * Undefined when it never fired in that window. Throws on an invalid expression.
 */
export function previousCronFire(expr: string, timeZone: string, now: number, lookBackDays = 8): number | undefined {
  const c = parse(expr);
  if (typeof c === 'string') throw new Error(`invalid cron "${expr}": ${c}`);
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
  const [minutes, hours, doms, months, dows] = c.sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  let t = Math.floor(now / 60_000) * 60_000;
  const stop = t - lookBackDays * 86_400_000;
  for (; t >= stop; t -= 60_000) {
    const parts: Record<string, string> = {};
    for (const p of fmt.formatToParts(t)) parts[p.type] = p.value;
    if (!minutes.has(Number(parts.minute)) || !hours.has(Number(parts.hour)) || !months.has(Number(parts.month))) continue;
    const domOk = doms.has(Number(parts.day));
    const dowOk = dows.has(WEEKDAYS[parts.weekday!]!);
    const dayOk = c.domStar && c.dowStar ? true : c.domStar ? dowOk : c.dowStar ? domOk : domOk || dowOk;
    if (dayOk) return t;
  }
  return undefined;
}
