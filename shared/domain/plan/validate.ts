import type { PlanSyncInput } from '../sync-plan';
import { SyncPlanInputError } from '../sync-plan';
import { isMovedAwayId } from './moved-away';

/**
 * Stage 0, validation: decides whether the input is consistent enough to plan at all
 * (known settings, no department or person mapped twice). Throws SyncPlanInputError with
 * every problem found (up to 50); never partially plans.
 */
export function validatePlanInput(input: PlanSyncInput): void {
  const problems: string[] = [];
  const s = input.settings;
  if (typeof input.runId !== 'string' || input.runId.trim() === '') problems.push('runId is required');
  if (!Number.isFinite(input.now)) problems.push('now must be a timestamp in ms');
  if (!['emailLocalPart', 'loginName', 'jobNumber'].includes(s.accountNameRule)) problems.push(`unknown accountNameRule "${String(s.accountNameRule)}"`);
  if (!Number.isFinite(s.suspendGraceDays) || s.suspendGraceDays < 0) problems.push('suspendGraceDays must be a number >= 0');
  if (!Number.isFinite(s.deleteThreshold.count) || s.deleteThreshold.count < 0) problems.push('deleteThreshold.count must be >= 0');
  if (!Number.isFinite(s.deleteThreshold.percent) || s.deleteThreshold.percent < 0 || s.deleteThreshold.percent > 100) problems.push('deleteThreshold.percent must be within 0-100');
  const minimum = s.deleteThreshold.minimum;
  if (minimum !== undefined && (!Number.isInteger(minimum) || minimum < 0)) problems.push('deleteThreshold.minimum must be an integer >= 0');
  for (const a of s.matchAttributes) if (!['email', 'jobNumber', 'mobile'].includes(a)) problems.push(`unknown match attribute "${String(a)}"`);
  if (input.adopt && !input.netease) problems.push('adopt needs the current NetEase state (netease)');
  const unitSources = new Set<string>();
  const movedAway = new Set(input.mappings.units.filter((u) => u.status === 'active' && isMovedAwayId(u.sourceId)).map((u) => u.unitId));
  const unitIds = new Set<string>();
  for (const u of input.mappings.units) {
    if (u.status !== 'active') continue;
    if (unitSources.has(u.sourceId)) problems.push(`department ${u.sourceId} is mapped to two units`);
    unitSources.add(u.sourceId);
    // A legacy move hands the unit to a pseudo department first (legacy-moves.ts); a run cut
    // off right after leaves both: the pseudo wins, the department gets a new unit.
    if (isMovedAwayId(u.sourceId) || movedAway.has(u.unitId)) continue;
    if (unitIds.has(u.unitId)) problems.push(`unit ${u.unitId} is mapped from two departments`);
    unitIds.add(u.unitId);
  }
  const people = new Set<string>();
  const names = new Set<string>();
  for (const a of input.mappings.accounts) {
    if (people.has(a.sourceId)) problems.push(`person ${a.sourceId} is mapped twice`);
    const name = a.accountName.toLowerCase();
    if (names.has(name)) problems.push(`account ${name} is mapped from two people`);
    people.add(a.sourceId);
    names.add(name);
  }
  if (problems.length > 0) throw new SyncPlanInputError(problems.slice(0, 50));
}
