/**
 * The source-neutral directory model. Every source (EKP, DingTalk, WeCom) maps its vendor
 * payloads to these types at its adapter's edge; the planner only ever sees these.
 *
 * Pure types and helpers: no I/O, no imports outside shared/domain.
 */

export type DepartmentStatus = 'active' | 'disabled';
export type PersonStatus = 'active' | 'disabled' | 'left';

export interface Department {
  /** The source's stable id (EKP fdId, DingTalk dept_id, WeCom department id), as a string. */
  id: string;
  name: string;
  /** Parent's source id; undefined for a root department. */
  parentId?: string;
  /** Sort order within the parent (lower first); 0 when the source has none. */
  order: number;
  status: DepartmentStatus;
  /** Source ids of the department's managers, where the source says (leaver forwarding). */
  managerIds?: string[];
  /**
   * The display order NetEase should show (lower first), only from a source whose every
   * read of the department carries it (EKP fdOrder, WeCom order): a source that gives the
   * order on some reads only (DingTalk: department/get, not listsub) leaves it unset, so
   * full and change runs never disagree about it.
   */
  displayOrder?: number;
}

export interface Person {
  /** The source's stable id (EKP fdId, DingTalk userid, WeCom UserID). */
  id: string;
  /** Login name in the source (EKP fdLoginName; DingTalk/WeCom userid). */
  loginName?: string;
  displayName: string;
  email?: string;
  mobile?: string;
  jobNumber?: string;
  /** Source ids of every department the person belongs to. */
  departmentIds: string[];
  /** The main department (one of departmentIds), where the source says which. */
  mainDepartmentId?: string;
  status: PersonStatus;
  /** Job title (DingTalk `title`, WeCom `position`); used by policies, not sent to NetEase. */
  title?: string;
  /** Source id of the person's manager, where the source says (leaver forwarding). */
  managerId?: string;
  /** Sort order in the main department (lower first), where the source has one. */
  order?: number;
}

/** Everything a source holds, at one moment. */
export interface DirectorySnapshot {
  departments: Department[];
  people: Person[];
  /**
   * True only when the pull finished and every page was read. Deletions are computed
   * only from a complete snapshot (a partial pull must never delete anyone).
   */
  complete: boolean;
  /** When the pull started (ms epoch). */
  takenAt: number;
}

export type DirectoryObjectType = 'department' | 'person';

/** Changes since a watermark: upserts, plus ids the source reports deleted. */
export interface DirectoryChanges {
  departments: Department[];
  people: Person[];
  deletedDepartmentIds: string[];
  deletedPersonIds: string[];
  /** Opaque per-type watermarks to store once everything up to them has applied. */
  watermarks: Partial<Record<DirectoryObjectType, string>>;
}
