/**
 * The safety checks that park a plan as awaiting approval instead of letting it suspend or
 * delete (issue 4, Build 5). What the others do and what broke for their users is in
 * reference sync-and-ekp.md Part B: go-ldap-admin deletes everything missing from a WeCom
 * pull with no threshold; authentik's mark-and-sweep can wipe the user base after one bad
 * sync (#12722); Entra parks on a count, Okta on a percentage. We check both, per object
 * type, plus the "source suddenly empty or halved" guard ("Ideas" 4), which holds even
 * when the configured thresholds are generous.
 */
import type { ParkReason, SyncSettings } from './sync-plan';

/** A complete source holding fewer in-scope objects than this share of what we manage parks. */
export const SHRINK_GUARD_RATIO = 0.5;
/** Below this many managed objects, churn is judged by the thresholds alone. */
export const SHRINK_GUARD_MIN_BASELINE = 10;
/**
 * Default of `deleteThreshold.minimum`: the percentage rule applies from this many
 * suspensions/deletions (of one object type) on. Without it a tenant of under 20 people
 * parks on a single leaver at the default 5%, and a parked run holds the tenant's lock for
 * up to a day, stalling even contact-callback runs. The count rule and the empty / half-size
 * guards still hold below it.
 */
export const DEFAULT_PERCENT_RULE_MINIMUM = 10;

export interface DestructiveCounts {
  /** Accounts the plan suspends or deletes. */
  accounts: number;
  /** Units the plan deletes. */
  units: number;
}

export interface SafetyBaseline {
  /** Accounts the bridge manages that are active now (the percentage base). */
  activeAccounts: number;
  activeUnits: number;
  /** In-scope active people / departments in a complete snapshot; undefined for other runs. */
  sourceAccounts?: number;
  sourceUnits?: number;
}

/**
 * Why the plan must wait for approval; empty when it may run. Nothing destructive, nothing
 * to approve. A threshold is exceeded when the count is above `count`, or, once the count
 * reaches `minimum` (default {@link DEFAULT_PERCENT_RULE_MINIMUM}), above `percent` of the
 * managed base (a base of zero makes any such deletion exceed it). `count: 0` therefore
 * means "every deletion needs approval"; `minimum: 0` applies the percentage from the first.
 */
export function evaluateSafety(threshold: SyncSettings['deleteThreshold'], destructive: DestructiveCounts, baseline: SafetyBaseline): ParkReason[] {
  const reasons: ParkReason[] = [];
  if (destructive.accounts === 0 && destructive.units === 0) return reasons;
  if (baseline.sourceAccounts !== undefined && baseline.sourceAccounts === 0 && baseline.activeAccounts > 0) {
    reasons.push({ code: 'sourceEmpty', baseline: baseline.activeAccounts });
  } else if (baseline.sourceUnits !== undefined && baseline.sourceUnits === 0 && baseline.activeUnits > 0) {
    reasons.push({ code: 'sourceEmpty', baseline: baseline.activeUnits });
  } else {
    const shrank = (objects: 'accounts' | 'units', current: number | undefined, base: number) => {
      if (current !== undefined && base >= SHRINK_GUARD_MIN_BASELINE && current < base * SHRINK_GUARD_RATIO) {
        reasons.push({ code: 'sourceShrank', objects, current, baseline: base });
      }
    };
    if (destructive.accounts > 0) shrank('accounts', baseline.sourceAccounts, baseline.activeAccounts);
    if (destructive.units > 0) shrank('units', baseline.sourceUnits, baseline.activeUnits);
  }
  const check = (objects: 'accounts' | 'units', count: number, base: number) => {
    if (count === 0) return;
    if (count > threshold.count) reasons.push({ code: 'deleteThresholdCount', objects, count, limit: threshold.count });
    // Small numbers are judged by the count alone: 1 leaver of 15 people is 6.7%.
    if (count < (threshold.minimum ?? DEFAULT_PERCENT_RULE_MINIMUM)) return;
    const percent = base === 0 ? 100 : (count / base) * 100;
    if (percent > threshold.percent) {
      reasons.push({ code: 'deleteThresholdPercent', objects, count, base, percent: Math.round(percent * 10) / 10, limit: threshold.percent });
    }
  };
  check('accounts', destructive.accounts, baseline.activeAccounts);
  check('units', destructive.units, baseline.activeUnits);
  return reasons;
}

/** One line per reason, for run logs and the CLI. */
export function describeParkReason(r: ParkReason): string {
  switch (r.code) {
    case 'deleteThresholdCount':
      return `${r.count} ${r.objects} would be suspended or deleted, above the threshold of ${r.limit}`;
    case 'deleteThresholdPercent':
      return `${r.count} of ${r.base} ${r.objects} (${r.percent}%) would be suspended or deleted, above the threshold of ${r.limit}%`;
    case 'sourceEmpty':
      return `the source returned no in-scope objects while the bridge manages ${r.baseline}`;
    case 'sourceShrank':
      return `the source returned ${r.current} in-scope ${r.objects} while the bridge manages ${r.baseline} (less than half)`;
  }
}
