/**
 * Stage 5f, display order (`sync.displayOrder`): decides which units and mailboxes get a
 * new NetEase rank (unit/updateUnitRank, address/updateAccountRank: reference §2, S1).
 *
 * - A unit's rank is its department's `displayOrder` (directory.ts: lower first); a
 *   mailbox's rank is the person's `order` in their main department, where the source has
 *   one (EKP `order` = fdOrder, WeCom `order`; DingTalk's department list and user list
 *   carry none, so DingTalk units and people keep NetEase's order).
 * - Diff-based: the rank the bridge last applied is in the mapping; an unchanged rank
 *   costs nothing. A unit or mailbox the bridge never ranked is compared with 0.
 *   Unconfirmed: that NetEase's default rank is 0 (our simulator's); so a source without
 *   order values (every order 0) leaves NetEase's order untouched.
 * - A department not read in this run (rebuilt from the mapping in a change run) is skipped.
 */
import { rankOf } from '../mailbox-policies';
import type { PersonIntent, PlanContext } from './context';
import { unitRefOf, type OpDrafts } from './diff';
import type { MappingIndex, SourceRead } from './read';
import type { UnitNaming } from './name';

export function planRanks(ctx: PlanContext, idx: MappingIndex, src: SourceRead, naming: UnitNaming, intents: ReadonlyMap<string, PersonIntent>, ops: OpDrafts): void {
  if (!ctx.settings.displayOrder) return;
  const refOf = unitRefOf(naming);
  const view = ctx.input.source.kind === 'snapshot' ? ctx.input.source.snapshot : ctx.input.source.changes;
  const displayOrder = new Map<string, number>();
  for (const d of view.departments) if (d.displayOrder !== undefined) displayOrder.set(d.id, d.displayOrder);
  for (const id of src.priority) {
    const rank = rankOf(displayOrder.get(id));
    if (rank === undefined) continue;
    const previous = idx.activeUnits.get(id)?.rank;
    // A unit taken over or linked this run starts from what NetEase holds: unknown, so 0.
    const known = naming.current.get(id)?.origin === 'mapped' ? previous : undefined;
    if (rank === (known ?? 0)) continue;
    const at = ops.add({ kind: 'unit.rank', sourceId: id, unit: refOf(id), rank, ...(known !== undefined ? { previousRank: known } : {}) });
    ops.after(at, [`unit.create:${id}`, `unit.link:${id}`]);
  }
  const orders = new Map<string, number>();
  for (const p of src.universe.people) if (p.order !== undefined) orders.set(p.id, p.order);
  for (const it of intents.values()) {
    if (it.action !== 'create' && it.action !== 'keep') continue;
    const rank = rankOf(orders.get(it.sourceId));
    if (rank === undefined) continue;
    const previous = it.action === 'keep' && !it.linked ? it.mapping?.rank : undefined;
    if (rank === (previous ?? 0)) continue;
    const at = ops.add({ kind: 'account.rank', sourceId: it.sourceId, accountName: it.accountName, rank, ...(previous !== undefined ? { previousRank: previous } : {}) });
    ops.after(at, [`account.create:${it.sourceId}`, `account.link:${it.sourceId}`, `account.recover:${it.sourceId}`]);
  }
}
