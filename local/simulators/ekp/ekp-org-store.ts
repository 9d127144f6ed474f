/**
 * One tenant's EKP organisation inside the simulator: the sys_org_element rows, the
 * v16.0.5+ feed query over them, and the edits an EKP administrator would make.
 *
 * Feed semantics copied from EKP src `SysSynchroGetOrgWebServiceImpl` (reference
 * sync-and-ekp.md §A6):
 * - per requested type, in the order requested (all types: org, dept, post, group,
 *   person), rows with `alterTime > begin` (strict) and `< end`, oldest first;
 * - non-V2 calls see only `isBusiness = true` rows;
 * - `count` is raised to `countFloor` (10000 on a real server), and the page stops
 *   exactly at that many rows, even in the middle of a millisecond;
 * - `timeStamp` is the last row's alterTime, or `begin` echoed when nothing matched.
 * Rows sharing a millisecond come back in a stable order (by when they were last
 * written), as a database would return them for the same plan.
 *
 * Every edit stamps the rows it touches with a new alterTime (a batch shares one, like
 * an EKP bulk import) that never goes backwards.
 */
import type { EkpOrgType, EkpWireElement } from '../../../shared/adapters/ekp/ekp.schema';
import { EKP_ORG_TYPES } from '../../../shared/adapters/ekp/ekp.schema';
import { formatEkpTime, normalizeEkpTime, parseEkpTime } from '../../../shared/adapters/ekp/ekp-time';

/** A simulator-side problem with an edit; the HTTP layer answers it with `status`. */
export class SimInputError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface PersonEdit {
  id?: string;
  name?: string;
  loginName?: string;
  email?: string | null;
  mobile?: string | null;
  jobNumber?: string | null;
  /** Main department first (unless mainDepartmentId says otherwise), then others. */
  departmentIds?: string[];
  mainDepartmentId?: string;
  status?: 'active' | 'disabled' | 'left';
  /** A password hash to store (tests check that it never leaves the client). */
  password?: string;
}

export interface DepartmentEdit {
  id?: string;
  name?: string;
  /** null makes it a root (only for type org). */
  parentId?: string | null;
  order?: number;
  status?: 'active' | 'disabled';
  type?: 'org' | 'dept';
}

export interface StoreSnapshot {
  lastAlterMs: number;
  seq: number;
  idCounter: number;
  elements: EkpWireElement[];
}

export interface FeedPage {
  rows: EkpWireElement[];
  timeStamp: string | undefined;
}

const SECOND_POST_SUFFIX = '兼任岗';

export class EkpOrgStore {
  private readonly rows = new Map<string, EkpWireElement>();
  /** Write order, used to order rows that share a millisecond. */
  private readonly seqOf = new Map<string, number>();
  private seq = 0;
  private lastAlterMs = 0;
  private idCounter = 0;
  private sortedByType: Map<EkpOrgType, EkpWireElement[]> | undefined;

  constructor(snapshot: StoreSnapshot) {
    for (const el of snapshot.elements) this.put(el);
    this.seq = Math.max(this.seq, snapshot.seq);
    this.idCounter = snapshot.idCounter;
    this.lastAlterMs = snapshot.lastAlterMs;
    for (const el of this.rows.values()) this.lastAlterMs = Math.max(this.lastAlterMs, parseEkpTime(el.alterTime) ?? 0);
  }

  static fromElements(elements: readonly EkpWireElement[]): EkpOrgStore {
    return new EkpOrgStore({ lastAlterMs: 0, seq: 0, idCounter: 0, elements: elements.map((e) => ({ ...e })) });
  }

  toSnapshot(): StoreSnapshot {
    return { lastAlterMs: this.lastAlterMs, seq: this.seq, idCounter: this.idCounter, elements: this.ordered() };
  }

  get(id: string): EkpWireElement | undefined {
    return this.rows.get(id);
  }

  /** All rows, oldest alterTime first. */
  ordered(): EkpWireElement[] {
    return EKP_ORG_TYPES.flatMap((t) => this.sorted(t)).sort((a, b) => this.compare(a, b));
  }

  counts(): Record<string, number> {
    const c: Record<string, number> = { org: 0, dept: 0, post: 0, group: 0, person: 0, personActive: 0, personDisabled: 0, personLeft: 0 };
    for (const el of this.rows.values()) {
      c[el.type] = (c[el.type] ?? 0) + 1;
      if (el.type === 'person') {
        const k = el.isAvailable === false ? 'personLeft' : el.canLogin === false ? 'personDisabled' : 'personActive';
        c[k] = (c[k] ?? 0) + 1;
      }
    }
    return c;
  }

  /** The newest alterTime in the store. */
  latestAlterTime(): string | undefined {
    return this.lastAlterMs > 0 ? formatEkpTime(this.lastAlterMs) : undefined;
  }

  // ------------------------------------------------------------------ the feed
  /** getUpdatedElements as the v16.0.5+ server answers it (see the file comment). */
  updatedElements(q: { types: readonly EkpOrgType[]; count: number; countFloor: number; begin?: string; end?: string; omit?: ReadonlySet<string> }): FeedPage {
    const limit = Math.max(q.count, q.countFloor);
    const rows: EkpWireElement[] = [];
    outer: for (const type of q.types) {
      const list = this.sorted(type);
      let i = q.begin === undefined ? 0 : upperBound(list, q.begin);
      for (; i < list.length; i++) {
        const el = list[i] as EkpWireElement;
        if (q.end !== undefined && el.alterTime >= q.end) break;
        if (!el.isBusiness) continue;
        // A row the server loses (the simulator's feedOmits fault).
        if (q.omit?.has(el.id)) continue;
        rows.push(el);
        if (rows.length >= limit) break outer;
      }
    }
    return { rows, timeStamp: rows.length > 0 ? (rows[rows.length - 1] as EkpWireElement).alterTime : q.begin };
  }

  /** getElementsBaseInfo: every business row of the types, with no/order/keyword if asked. */
  baseInfo(types: readonly EkpOrgType[], extra: ReadonlyArray<'no' | 'order' | 'keyword'>): Array<Record<string, string>> {
    const out: Array<Record<string, string>> = [];
    for (const type of types) {
      for (const el of this.sorted(type)) {
        if (!el.isBusiness) continue;
        const row: Record<string, string> = { id: el.id, lunid: el.id, name: el.name, type: el.type };
        for (const k of extra) {
          const v = el[k];
          if (v !== undefined) row[k] = String(v);
        }
        out.push(row);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ edits
  /**
   * Add or change people. All edits are checked before any is applied, so a bad batch
   * changes nothing. A batch shares one alterTime (a bulk import), otherwise each
   * call gets its own.
   */
  upsertPeople(edits: readonly PersonEdit[]): Array<{ id: string; alterTime: string }> {
    // Indexes built once per call, so a large batch on a large org stays linear.
    const logins = edits.some((e) => e.loginName !== undefined) ? this.loginIndex() : new Map<string, string>();
    const plans = edits.map((e, i) => this.planPerson(e, i, edits, logins));
    const secondPosts = this.secondPostIndex();
    const alterTime = this.nextAlterTime();
    const out: Array<{ id: string; alterTime: string }> = [];
    for (const { edit, existing, id, main, others } of plans) {
      const el: EkpWireElement = existing
        ? { ...existing }
        : { id, lunid: id, name: '', type: 'person', isAvailable: true, isBusiness: true, isExternal: false, alterTime, hierarchyId: null, isActivated: true, canLogin: true, langProps: {}, customProps: {} };
      if (edit.name !== undefined) el.name = edit.name;
      if (edit.loginName !== undefined) {
        el.loginName = edit.loginName;
        el.loginNameLower = edit.loginName.toLowerCase();
      } else if (!existing) {
        el.loginName = `user${this.idCounter}`;
        el.loginNameLower = el.loginName;
      }
      setOptional(el, 'email', edit.email);
      setOptional(el, 'mobileNo', edit.mobile);
      setOptional(el, 'no', edit.jobNumber);
      if (edit.password !== undefined) el.password = edit.password;
      if (main) {
        el.parent = main.id;
        el.hierarchyId = `${main.hierarchyId ?? `x${main.id}x`}${id}x`;
      }
      if (edit.status === 'left') {
        el.isAvailable = false;
        el.canLogin = false;
      } else if (edit.status === 'disabled') {
        el.isAvailable = true;
        el.canLogin = false;
      } else if (edit.status === 'active') {
        el.isAvailable = true;
        el.canLogin = true;
      }
      // Second departments are posts in those departments. A leaver holds no posts
      // (EKP clears post relations when a person is made unavailable).
      const wantPosts = el.isAvailable === false ? [] : others ? others.map((d) => this.secondPostFor(d, alterTime, secondPosts).id) : (el.posts ?? []);
      this.setPosts(el, wantPosts, alterTime);
      el.alterTime = alterTime;
      this.put(el);
      out.push({ id, alterTime });
    }
    return out;
  }

  /** A leaver: EKP's logical delete (isAvailable=false, alterTime bumped). */
  leave(id: string): { id: string; alterTime: string } {
    const el = this.rows.get(id);
    if (!el || el.type !== 'person') throw new SimInputError(404, `no person ${id}`);
    return this.upsertPeople([{ id, status: 'left' }])[0] as { id: string; alterTime: string };
  }

  /** A physical delete (a DBA, or a purge): the row disappears and the feed never says so. */
  purgePerson(id: string): void {
    const el = this.rows.get(id);
    if (!el || el.type !== 'person') throw new SimInputError(404, `no person ${id}`);
    const alterTime = this.nextAlterTime();
    this.setPosts(el, [], alterTime);
    this.remove(id);
  }

  upsertDepartments(edits: readonly DepartmentEdit[]): Array<{ id: string; alterTime: string }> {
    const plans = edits.map((e, i) => this.planDepartment(e, i, edits));
    const alterTime = this.nextAlterTime();
    const out: Array<{ id: string; alterTime: string }> = [];
    for (const { edit, existing, id } of plans) {
      const el: EkpWireElement = existing
        ? { ...existing }
        : { id, lunid: id, name: '', type: edit.type ?? 'dept', isAvailable: true, isBusiness: true, isExternal: false, alterTime, hierarchyId: null, langProps: {} };
      if (edit.name !== undefined) el.name = edit.name;
      if (edit.type !== undefined) el.type = edit.type;
      if (edit.order !== undefined) el.order = String(edit.order);
      if (edit.status !== undefined) el.isAvailable = edit.status === 'active';
      if (edit.parentId !== undefined) {
        if (edit.parentId === null) delete el.parent;
        else el.parent = edit.parentId;
      }
      // A move shows up as a new parent/hierarchyId on the moved row (§A5). Descendants'
      // hierarchyIds are not rewritten here; the bridge does not read them.
      const parent = el.parent ? this.rows.get(el.parent) : undefined;
      el.hierarchyId = `${parent?.hierarchyId ?? (parent ? `x${parent.id}x` : 'x')}${id}x`;
      el.alterTime = alterTime;
      this.put(el);
      out.push({ id, alterTime });
    }
    return out;
  }

  /** Department removal: logical (disable) by default, physical only when empty. */
  removeDepartment(id: string, physical: boolean): { id: string; alterTime?: string } {
    const el = this.rows.get(id);
    if (!el || (el.type !== 'dept' && el.type !== 'org')) throw new SimInputError(404, `no department ${id}`);
    if (!physical) return this.upsertDepartments([{ id, status: 'disabled' }])[0] as { id: string; alterTime: string };
    for (const other of this.rows.values()) {
      if (other.parent === id && (other.type !== 'post' || (other.persons?.length ?? 0) > 0)) {
        throw new SimInputError(409, `department ${id} still has ${other.type} ${other.id}; EKP refuses to delete a non-empty department`);
      }
    }
    for (const other of [...this.rows.values()]) if (other.parent === id && other.type === 'post') this.remove(other.id);
    this.remove(id);
    return { id };
  }

  // ------------------------------------------------------------------ internals
  private planPerson(edit: PersonEdit, index: number, batch: readonly PersonEdit[], logins: Map<string, string>) {
    const where = batch.length > 1 ? `people[${index}]` : 'person';
    const existing = edit.id ? this.rows.get(edit.id) : undefined;
    if (existing && existing.type !== 'person') throw new SimInputError(409, `${where}: ${edit.id} is a ${existing.type}, not a person`);
    if (!existing) {
      if (!edit.name) throw new SimInputError(400, `${where}: name is required to add a person`);
      if (!edit.departmentIds?.length) throw new SimInputError(400, `${where}: departmentIds is required to add a person`);
    }
    const id = existing?.id ?? edit.id ?? this.newId();
    if (batch.some((o, j) => j < index && o.id !== undefined && o.id === edit.id)) throw new SimInputError(400, `${where}: id ${edit.id} appears twice in the batch`);
    let main: EkpWireElement | undefined;
    let others: EkpWireElement[] | undefined;
    if (edit.departmentIds || edit.mainDepartmentId) {
      const ids = edit.departmentIds ?? [edit.mainDepartmentId as string];
      const mainId = edit.mainDepartmentId ?? ids[0];
      if (edit.mainDepartmentId && edit.departmentIds && !edit.departmentIds.includes(edit.mainDepartmentId)) {
        throw new SimInputError(400, `${where}: mainDepartmentId must be one of departmentIds`);
      }
      const depts = ids.map((d) => {
        const el = this.rows.get(d);
        if (!el || (el.type !== 'dept' && el.type !== 'org')) throw new SimInputError(400, `${where}: unknown department ${d}`);
        return el;
      });
      main = depts.find((d) => d.id === mainId);
      others = depts.filter((d, i) => d.id !== mainId && ids.indexOf(d.id) === i);
    }
    if (edit.loginName !== undefined) {
      const lower = edit.loginName.toLowerCase();
      const holder = logins.get(lower);
      if (holder !== undefined && holder !== id) throw new SimInputError(409, `${where}: loginName ${edit.loginName} is taken by ${holder}`);
      logins.set(lower, id); // later edits of the same batch see it taken
    }
    return { edit, existing, id, main, others };
  }

  private planDepartment(edit: DepartmentEdit, index: number, batch: readonly DepartmentEdit[]) {
    const where = batch.length > 1 ? `departments[${index}]` : 'department';
    const existing = edit.id ? this.rows.get(edit.id) : undefined;
    if (existing && existing.type !== 'dept' && existing.type !== 'org') throw new SimInputError(409, `${where}: ${edit.id} is a ${existing.type}, not a department`);
    if (!existing && !edit.name) throw new SimInputError(400, `${where}: name is required to add a department`);
    const id = existing?.id ?? edit.id ?? this.newId();
    const type = edit.type ?? existing?.type ?? 'dept';
    const parentId = edit.parentId === undefined ? existing?.parent : edit.parentId ?? undefined;
    if (parentId === undefined && type !== 'org') throw new SimInputError(400, `${where}: a dept needs a parentId (only an org may be a root)`);
    if (parentId !== undefined) {
      // The parent must exist already (create a parent and its child in two calls).
      const parent = this.rows.get(parentId);
      if (!parent || (parent.type !== 'dept' && parent.type !== 'org')) throw new SimInputError(400, `${where}: unknown parent department ${parentId}`);
      // No cycles: the new parent must not be the department itself or one of its descendants.
      for (let p: EkpWireElement | undefined = parent; p; p = p.parent ? this.rows.get(p.parent) : undefined) {
        if (p.id === id) throw new SimInputError(409, `${where}: moving ${id} under ${parentId} would make a cycle`);
      }
    }
    return { edit, existing, id };
  }

  /** The post that puts people into `dept` as a second department (created on first use). */
  private secondPostFor(dept: EkpWireElement, alterTime: string, index: Map<string, string>): EkpWireElement {
    const known = index.get(dept.id);
    const existing = known ? this.rows.get(known) : undefined;
    if (existing) return existing;
    const id = this.newId();
    index.set(dept.id, id);
    const post: EkpWireElement = {
      id,
      lunid: id,
      name: `${dept.name}${SECOND_POST_SUFFIX}`,
      type: 'post',
      isAvailable: true,
      isBusiness: true,
      isExternal: false,
      alterTime,
      hierarchyId: `${dept.hierarchyId ?? `x${dept.id}x`}${id}x`,
      parent: dept.id,
      persons: [],
      langProps: {},
    };
    this.put(post);
    return post;
  }

  /** loginNameLower -> person id. */
  private loginIndex(): Map<string, string> {
    const m = new Map<string, string>();
    for (const el of this.rows.values()) if (el.type === 'person' && el.loginNameLower) m.set(el.loginNameLower, el.id);
    return m;
  }

  /** department id -> the available post that makes it someone's second department. */
  private secondPostIndex(): Map<string, string> {
    const m = new Map<string, string>();
    for (const el of this.rows.values()) {
      if (el.type === 'post' && el.parent && el.isAvailable && el.name.endsWith(SECOND_POST_SUFFIX) && !m.has(el.parent)) m.set(el.parent, el.id);
    }
    return m;
  }

  /** Point a person at exactly `postIds`, updating both sides of the relation. */
  private setPosts(person: EkpWireElement, postIds: readonly string[], alterTime: string): void {
    const before = new Set(person.posts ?? []);
    const after = new Set(postIds);
    for (const pid of new Set([...before, ...after])) {
      if (before.has(pid) === after.has(pid)) continue;
      const post = this.rows.get(pid);
      if (!post || post.type !== 'post') continue;
      const persons = new Set(post.persons ?? []);
      if (after.has(pid)) persons.add(person.id);
      else persons.delete(person.id);
      const next: EkpWireElement = { ...post, alterTime };
      if (persons.size > 0) next.persons = [...persons];
      else delete next.persons;
      this.put(next);
    }
    if (after.size > 0) person.posts = [...after];
    else delete person.posts;
  }

  private put(el: EkpWireElement): void {
    const t = normalizeEkpTime(el.alterTime);
    if (t === undefined) throw new SimInputError(400, `row ${el.id} has a bad alterTime`);
    el.alterTime = t;
    this.rows.set(el.id, el);
    this.seqOf.set(el.id, ++this.seq);
    this.sortedByType = undefined;
  }

  private remove(id: string): void {
    this.rows.delete(id);
    this.seqOf.delete(id);
    this.sortedByType = undefined;
  }

  private sorted(type: EkpOrgType): EkpWireElement[] {
    if (!this.sortedByType) {
      const m = new Map<EkpOrgType, EkpWireElement[]>(EKP_ORG_TYPES.map((t) => [t, []]));
      for (const el of this.rows.values()) m.get(el.type)?.push(el);
      for (const list of m.values()) list.sort((a, b) => this.compare(a, b));
      this.sortedByType = m;
    }
    return this.sortedByType.get(type) ?? [];
  }

  private compare(a: EkpWireElement, b: EkpWireElement): number {
    if (a.alterTime !== b.alterTime) return a.alterTime < b.alterTime ? -1 : 1;
    return (this.seqOf.get(a.id) ?? 0) - (this.seqOf.get(b.id) ?? 0);
  }

  /** A fresh alterTime: now, but never earlier than (or equal to) the last one handed out. */
  private nextAlterTime(): string {
    this.lastAlterMs = Math.max(Date.now(), this.lastAlterMs + 1);
    return formatEkpTime(this.lastAlterMs);
  }

  /** EKP-looking 32-hex ids: a counter-led prefix (unique) and a random tail. */
  private newId(): string {
    const head = (0x19a0000000 + this.idCounter++ * 0x3d).toString(16).padStart(11, '0');
    let tail = '';
    while (tail.length < 21) tail += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
    const id = head + tail.slice(0, 21);
    return this.rows.has(id) ? this.newId() : id;
  }
}

/** Index of the first row with alterTime > t (rows sorted by alterTime). */
function upperBound(list: readonly EkpWireElement[], t: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as EkpWireElement).alterTime <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function setOptional(el: EkpWireElement, key: 'email' | 'mobileNo' | 'no', value: string | null | undefined): void {
  if (value === undefined) return;
  // EKP leaves empty values out of the row entirely (§A4).
  if (value === null || value === '') delete el[key];
  else el[key] = value;
}
