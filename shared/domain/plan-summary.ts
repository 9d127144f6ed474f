/**
 * Counts of a plan's operations, in the shape of the run log (Landray's "added / updated /
 * deleted / ignored", reference sync-and-ekp.md Part B) plus what the bridge adds: moves,
 * suspensions, recoveries and links.
 */
import type { PlanOperation, PlanSummary } from './sync-plan';

/**
 * Summarizes `operations`. `unchanged` counts source objects needing nothing; `skip` those
 * deliberately left alone (out of scope, no usable account name, ambiguous, unknown).
 */
export function summarizeOperations(operations: readonly PlanOperation[], unchanged: number, skip: number): PlanSummary {
  const units = { create: 0, update: 0, move: 0, delete: 0, link: 0 };
  const accounts = { create: 0, update: 0, move: 0, suspend: 0, recover: 0, delete: 0, link: 0 };
  const lists = { create: 0, update: 0, delete: 0 };
  const aliases = { add: 0, remove: 0 };
  let phases = 0;
  let apiCalls = 0;
  for (const op of operations) {
    phases = Math.max(phases, op.phase + 1);
    const [type, kindVerb] = op.kind.split('.') as ['unit' | 'account' | 'maillist' | 'alias', string];
    // Display order, policies and forwarding change a setting of an existing object: updates.
    const verb = kindVerb === 'rank' || kindVerb === 'policy' || kindVerb === 'forward' ? 'update' : kindVerb;
    if (type === 'unit') units[verb as keyof typeof units]++;
    else if (type === 'account') accounts[verb as keyof typeof accounts]++;
    else if (type === 'maillist') lists[verb as keyof typeof lists]++;
    else aliases[verb as keyof typeof aliases]++;
    if (verb !== 'link') apiCalls++;
  }
  const mailOps = lists.create + lists.update + lists.delete + aliases.add + aliases.remove;
  return {
    units,
    accounts,
    ...(mailOps > 0 ? { mail: { lists, aliases } } : {}),
    totals: {
      create: units.create + accounts.create,
      update: units.update + accounts.update,
      move: units.move + accounts.move,
      suspend: accounts.suspend,
      recover: accounts.recover,
      delete: units.delete + accounts.delete,
      link: units.link + accounts.link,
      skip,
    },
    unchanged,
    operations: operations.length,
    apiCalls,
    phases,
  };
}
