/**
 * What a NetEase administrator (or NetEase support, or a restore) does to a domain in the
 * NetEase console, outside the API the bridge uses: delete, purge, suspend, rename or move a
 * mailbox; rename, move or delete a unit; empty the whole domain. Tests use it (control
 * route `POST /__sim/admin`) to make NetEase drift from the bridge's mapping the way
 * production does. The console keeps NetEase's own rules: unit names stay unique, a unit is
 * never moved under itself, a non-empty unit is not deleted, nothing ends up outside a unit.
 */
import { z } from 'zod';
import { SimError, type DomainModel } from './netease-sim.state';

export const adminEditSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('deleteAccount'), accountName: z.string().min(1) }),
  z.object({ action: z.literal('purgeAccount'), accountName: z.string().min(1) }),
  z.object({ action: z.literal('suspendAccount'), accountName: z.string().min(1) }),
  z.object({ action: z.literal('recoverAccount'), accountName: z.string().min(1) }),
  z.object({ action: z.literal('renameAccount'), accountName: z.string().min(1), nickname: z.string().min(1) }),
  z.object({ action: z.literal('moveAccount'), accountName: z.string().min(1), unitId: z.string().min(1) }),
  z.object({ action: z.literal('renameUnit'), unitId: z.string().min(1), unitName: z.string().min(1) }),
  z.object({ action: z.literal('moveUnit'), unitId: z.string().min(1), parentId: z.string().min(1).optional() }),
  z.object({ action: z.literal('deleteUnit'), unitId: z.string().min(1) }),
  z.object({ action: z.literal('emptyDomain') }),
]);
export type AdminEdit = z.infer<typeof adminEditSchema>;

/** Apply console edits in order; the first refused one throws SimError (earlier ones stay, as in a console). */
export function applyAdminEdits(model: DomainModel, edits: readonly AdminEdit[], now: number): void {
  const s = model.s;
  const account = (name: string) => {
    const a = s.accounts[name.toLowerCase()];
    if (!a) throw new SimError('ACCOUNT.NOTEXIST', `account ${name} does not exist`);
    return a;
  };
  const unit = (id: string) => {
    const u = s.units[id];
    if (!u) throw new SimError('UNIT.NOTEXIST', `unit ${id} does not exist`);
    return u;
  };
  for (const e of edits) {
    switch (e.action) {
      case 'deleteAccount': {
        const a = account(e.accountName);
        a.status = 2;
        a.deleted_at = now;
        break;
      }
      case 'purgeAccount':
        account(e.accountName);
        delete s.accounts[e.accountName.toLowerCase()];
        break;
      case 'suspendAccount':
        account(e.accountName).status = 1;
        break;
      case 'recoverAccount': {
        const a = account(e.accountName);
        a.status = 0;
        delete a.deleted_at;
        break;
      }
      case 'renameAccount':
        account(e.accountName).nickname = e.nickname;
        break;
      case 'moveAccount': {
        const a = account(e.accountName);
        a.unit_id = e.unitId === 'default' || e.unitId === model.defaultUnitId ? model.defaultUnitId : unit(e.unitId).unit_id;
        break;
      }
      case 'renameUnit': {
        const u = unit(e.unitId);
        if (Object.values(s.units).some((x) => x.unit_id !== u.unit_id && x.unit_name === e.unitName)) throw new SimError('UNIT.EXIST', `a unit named ${e.unitName} exists`);
        u.unit_name = e.unitName;
        break;
      }
      case 'moveUnit': {
        const u = unit(e.unitId);
        for (let p = e.parentId; p !== undefined; p = unit(p).parent_id) if (p === u.unit_id) throw new SimError('UNIT.PARENT_INVALID', 'a unit cannot move under itself');
        if (e.parentId === undefined) delete u.parent_id;
        else u.parent_id = e.parentId;
        break;
      }
      case 'deleteUnit': {
        const u = unit(e.unitId);
        const busy = Object.values(s.units).some((x) => x.parent_id === u.unit_id) || Object.values(s.accounts).some((a) => a.unit_id === u.unit_id && a.status !== 2);
        if (busy) throw new SimError('UNIT.NOT_EMPTY', `unit ${u.unit_id} is not empty`);
        delete s.units[u.unit_id];
        break;
      }
      case 'emptyDomain':
        s.units = {};
        s.accounts = {};
        break;
    }
  }
}
