/**
 * `explain`'s view of NetEase: what NetEase really holds for a mapped object, read live
 * (account/getAccount, unit/getUnit: reference §2), beside the mapping, and where the two
 * disagree. A mailbox deleted or suspended in NetEase's console shows here even before the
 * next full run repairs it. Names, ids and statuses only (no mobile number is returned).
 */
import { isNeteaseError } from '../../errors/netease-failure';
import type { MappingRecord } from '../../ports/mapping-store';
import type { DirectoryObjectType } from '../../domain/directory';
import type { NeteaseDirectory } from '../../ports/netease-directory';

export interface NeteaseView {
  read: 'ok' | 'failed' | 'skipped';
  /** The account or unit does not exist in NetEase (purged, deleted, or never created). */
  exists?: boolean;
  status?: 'active' | 'suspended' | 'deleted' | 'unknown';
  nickname?: string;
  unitId?: string;
  name?: string;
  parentUnitId?: string;
  /** Where NetEase and the mapping disagree (the next full run repairs it unless driftMode is report). */
  differences: string[];
  error?: string;
}

/** The mapping fields compared with NetEase (sync-queries.ts MappingView has them). */
export interface MappedObject {
  type: DirectoryObjectType;
  neteaseId: string;
  status: MappingRecord['status'];
  /** Unit name (departments). */
  name?: string;
  /** The account's unit id (people). */
  unitId?: string;
  parentUnitId?: string;
}

export async function neteaseViewOf(api: NeteaseDirectory, mapping: MappedObject): Promise<NeteaseView> {
  const differences: string[] = [];
  try {
    if (mapping.type === 'person') {
      let a;
      try {
        a = await api.getAccount(mapping.neteaseId);
      } catch (err) {
        if (!isNeteaseError(err, 'notFound')) throw err;
        if (mapping.status !== 'deleted') differences.push(`the mapping says ${mapping.status}, NetEase has no such mailbox`);
        return { read: 'ok', exists: false, differences };
      }
      const status = a.status === 'normal' ? 'active' : a.status;
      const unitId = a.unitId !== undefined && !a.unitId.endsWith('_default') ? a.unitId : 'default';
      if (status !== mapping.status && status !== 'unknown') differences.push(`status: mapping ${mapping.status}, NetEase ${status}`);
      if (mapping.unitId !== undefined && status !== 'deleted' && unitId !== (mapping.unitId.endsWith('_default') ? 'default' : mapping.unitId)) differences.push(`unit: mapping ${mapping.unitId}, NetEase ${unitId}`);
      return { read: 'ok', exists: true, status, ...(a.nickname !== undefined ? { nickname: a.nickname } : {}), unitId, differences };
    }
    let u;
    try {
      u = await api.getUnit(mapping.neteaseId);
    } catch (err) {
      if (!isNeteaseError(err, 'notFound')) throw err;
      if (mapping.status === 'active') differences.push('the mapping says active, NetEase has no such unit');
      return { read: 'ok', exists: false, differences };
    }
    const parent = u.parentId || undefined;
    if (mapping.name !== undefined && u.unitName !== mapping.name) differences.push(`name: mapping ${mapping.name}, NetEase ${u.unitName}`);
    if (parent !== mapping.parentUnitId) differences.push(`parent: mapping ${mapping.parentUnitId ?? 'top'}, NetEase ${parent ?? 'top'}`);
    return { read: 'ok', exists: true, name: u.unitName, ...(parent !== undefined ? { parentUnitId: parent } : {}), differences };
  } catch (err) {
    return { read: 'failed', differences, error: (err as { code?: string }).code ?? 'NETEASE.READ_FAILED' };
  }
}
