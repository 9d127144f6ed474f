/**
 * The NetEase simulator's mail-domain state and business rules, without HTTP: units,
 * accounts, unread counters and received-mail logs per domain, with the rules the real
 * service is known (or, where the reference is silent, assumed) to enforce. Field names
 * are NetEase's, because this state is what the simulated API answers with.
 *
 * Rules (reference netease-qiye-api.md §2, §5; assumptions marked):
 * - unit names are unique within the domain (`UNIT.EXIST`, the open-platform marker), so
 *   moving a unit (open platform unit/moveUnit) can never create a duplicate among its new
 *   siblings;
 * - a unit cannot be moved under itself or one of its descendants (`UNIT.PARENT_INVALID`,
 *   our code: NetEase's is unknown);
 * - a unit can be deleted only when it has no child units and no accounts other than
 *   soft-deleted ones (assumption) (`UNIT.NOT_EMPTY`);
 * - account names are local parts, compared case-insensitively (assumption); a duplicate,
 *   including a soft-deleted account still within its 7-day recovery window, is refused
 *   (`MAILACCOUNT.NAMEEXIST`, the open-platform marker);
 * - deleteAccountSim is a soft delete that recoverAccount undoes within 7 days (S2); after
 *   that the account is purged;
 * - status 0 normal, 1 suspended, 2 deleted (§2 getAccount).
 * Error codes are readable by choice: the legacy codes are an open question (Open
 * questions §1); shared/adapters/netease/netease.errors.ts classifies every one used here.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface SimUnit {
  unit_id: string;
  unit_name: string;
  parent_id?: string;
  unit_desc?: string;
  rank: number;
  created: number;
}

export interface SimAccount {
  account_name: string;
  account_openid: string;
  nickname: string;
  mobile?: string;
  job_no?: string;
  /** Always a real unit id or the domain's default unit id (`<domainId>_default`). */
  unit_id: string;
  status: 0 | 1 | 2;
  create_time: number;
  exp_time?: string;
  quota?: string;
  deleted_at?: number;
  /** How many times a password was set (passwords themselves are never kept). */
  password_sets: number;
  unread: number;
}

/** A mail in an account's mailbox (what mailbox/listMessages lists). */
export interface SimMessage {
  id: string;
  fid: number;
  from: string;
  subject: string;
  /** China time, `yyyy-MM-dd HH:mm:ss`. */
  receivedDate: string;
}

export interface SimMailLog {
  account_name: string;
  mailfrom: string;
  mailto: string;
  subject: string;
  sendtime: string;
  sendip: string;
  mailsize: number;
  result: string;
}

/** One simulated mailing list. Addresses lowercase. */
export interface SimMailList {
  account_name: string;
  name: string;
  members: string[];
  member_units: string[];
  mail_list_user_type: number;
  visible_in_addr: number;
  created: number;
}

export interface DomainState {
  domain: string;
  domainId: string;
  units: Record<string, SimUnit>;
  /** Keyed by lowercase account name. */
  accounts: Record<string, SimAccount>;
  mailLogs: SimMailLog[];
  nextUnitId: number;
  /** Per lowercase account: its mails, oldest first (absent in state saved before listMessages existed). */
  mailboxes?: Record<string, SimMessage[]>;
  nextMessageSeq?: number;
  /** Mail features (netease-sim.maillist.ts): aliases per lowercase account, alias -> account, lists by lowercase local part. */
  aliases?: Record<string, string[]>;
  aliasOwners?: Record<string, string>;
  maillists?: Record<string, SimMailList>;
}

/** A business refusal, answered as `{suc:false, error_code}`. */
export class SimError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export type Params = Readonly<Record<string, string>>;

/**
 * How getReceivedMailLogs answers a long log. The reference (§2) documents `{total, list}`
 * and no paging parameters; a server that caps `list` is assumed (tests set `limit`), and
 * the order of `list` is not documented either (`newestFirst` picks one).
 */
export interface MailLogShape {
  /** At most this many entries in `list`; `total` still counts all of them. Undefined = no cap. */
  limit?: number;
  newestFirst: boolean;
}

const SOFT_DELETE_MS = 7 * 24 * 3600_000;
/** The simulator's own account-name rule (§5: NetEase's real rule is unknown). */
const ACCOUNT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export function newDomainState(domain: string): DomainState {
  // A stable numeric-looking domain id, so the default unit id looks like NetEase's.
  const domainId = String(parseInt(createHash('sha1').update(domain).digest('hex').slice(0, 7), 16));
  return { domain, domainId, units: {}, accounts: {}, mailLogs: [], nextUnitId: 1001 };
}

/** The operations the simulated API exposes, on one domain's state. */
export class DomainModel {
  constructor(
    readonly s: DomainState,
    private readonly now: () => number,
    private readonly pageSize: () => number,
    private readonly mailLogShape: () => MailLogShape = () => ({ newestFirst: false }),
  ) {}

  get defaultUnitId(): string {
    return `${this.s.domainId}_default`;
  }

  // ---- units ---------------------------------------------------------------------------

  createUnit(p: Params): Record<string, unknown> {
    const name = required(p, 'unit_name');
    if (p.parent_id) this.unit(p.parent_id, { allowDefault: false });
    this.assertUnitNameFree(name);
    const unit: SimUnit = { unit_id: String(this.s.nextUnitId++), unit_name: name, rank: 0, created: this.now() };
    if (p.parent_id) unit.parent_id = p.parent_id;
    if (p.unit_desc) unit.unit_desc = p.unit_desc;
    this.s.units[unit.unit_id] = unit;
    return unitCon(unit);
  }

  updateUnit(p: Params): null {
    const unit = this.unit(required(p, 'unit_id'), { allowDefault: false });
    if (p.unit_name !== undefined && p.unit_name !== unit.unit_name) {
      this.assertUnitNameFree(p.unit_name);
      unit.unit_name = p.unit_name;
    }
    if (p.unit_desc !== undefined) unit.unit_desc = p.unit_desc;
    return null;
  }

  deleteUnit(p: Params): null {
    const unit = this.unit(required(p, 'unit_id'), { allowDefault: false });
    const children = Object.values(this.s.units).filter((u) => u.parent_id === unit.unit_id).length;
    const members = Object.values(this.s.accounts).filter((a) => a.unit_id === unit.unit_id && a.status !== 2).length;
    if (children > 0 || members > 0) throw new SimError('UNIT.NOT_EMPTY', `unit ${unit.unit_id} still has ${children} child unit(s) and ${members} account(s)`);
    delete this.s.units[unit.unit_id];
    return null;
  }

  getUnit(p: Params): Record<string, unknown> {
    const id = required(p, 'unit_id');
    if (this.isDefaultUnit(id)) return { unit_id: this.defaultUnitId, unit_name: '默认部门' };
    return unitCon(this.unit(id, { allowDefault: false }));
  }

  getUnitList(): Array<Record<string, unknown>> {
    return Object.values(this.s.units)
      .sort((a, b) => a.rank - b.rank || a.created - b.created || Number(a.unit_id) - Number(b.unit_id))
      .map(unitCon);
  }

  updateUnitRank(p: Params): null {
    const unit = this.unit(required(p, 'unit_id'), { allowDefault: false });
    const rank = required(p, 'rank');
    if (!/^-?\d+$/.test(rank)) throw new SimError('PARAM.INVALID', 'rank must be an integer');
    unit.rank = Number(rank);
    return null;
  }

  /**
   * The open platform's unit/moveUnit (reference §4, N4): put the unit under `parentId`
   * (undefined = the top level), keeping its id, accounts and sub-units. Moving to where
   * it already is succeeds without a change.
   */
  reparentUnit(unitId: string, parentId: string | undefined): SimUnit {
    const unit = this.unit(unitId, { allowDefault: false });
    if (parentId !== undefined) {
      const parent = this.unit(parentId, { allowDefault: false });
      // Walk up from the new parent: meeting the unit itself means a cycle.
      for (let u: SimUnit | undefined = parent; u; u = u.parent_id ? this.s.units[u.parent_id] : undefined) {
        if (u.unit_id === unit.unit_id) throw new SimError('UNIT.PARENT_INVALID', `unit ${unit.unit_id} cannot be moved under itself or one of its sub-units`);
      }
      unit.parent_id = parent.unit_id;
    } else {
      delete unit.parent_id;
    }
    return unit;
  }

  /**
   * unit/getAccountList: 1-based `page_num`; without `unit_id` the whole domain; with it,
   * that unit, plus sub-units when `recuion=true`. Soft-deleted accounts are not listed
   * (assumption).
   */
  getAccountList(p: Params): Record<string, unknown> {
    const page = p.page_num === undefined ? 1 : Number(p.page_num);
    if (!Number.isInteger(page) || page < 1) throw new SimError('PARAM.INVALID', 'page_num must be an integer >= 1');
    let units: Set<string> | undefined;
    if (p.unit_id) {
      const root = this.isDefaultUnit(p.unit_id) ? this.defaultUnitId : this.unit(p.unit_id, { allowDefault: false }).unit_id;
      units = new Set([root]);
      if (p.recuion === 'true') {
        for (let grew = true; grew; ) {
          grew = false;
          for (const u of Object.values(this.s.units)) {
            if (u.parent_id && units.has(u.parent_id) && !units.has(u.unit_id)) {
              units.add(u.unit_id);
              grew = true;
            }
          }
        }
      }
    }
    const all = Object.values(this.s.accounts)
      .filter((a) => a.status !== 2 && (!units || units.has(a.unit_id)))
      .sort((a, b) => a.create_time - b.create_time || a.account_name.localeCompare(b.account_name));
    const size = this.pageSize();
    const list = all.slice((page - 1) * size, page * size).map((a) => {
      const row: Record<string, unknown> = { account_name: a.account_name, account_openid: a.account_openid, nickname: a.nickname, create_time: a.create_time };
      if (a.mobile) row.mobile = a.mobile;
      if (a.job_no) row.job_no = a.job_no;
      return row;
    });
    return { count: all.length, list };
  }

  // ---- accounts ------------------------------------------------------------------------

  createAccount(p: Params): Record<string, unknown> {
    const name = required(p, 'account_name');
    if (!ACCOUNT_NAME.test(name)) throw new SimError('PARAM.INVALID', 'account_name must be a local part: letters, digits, . _ - (max 64)');
    const password = required(p, 'password');
    const nickname = required(p, 'nickname');
    if (p.pass_type !== undefined && p.pass_type !== '0' && p.pass_type !== '1') throw new SimError('PARAM.INVALID', 'pass_type must be 0 or 1');
    if (p.pass_type === '1' && !/^[0-9a-f]{32}$/i.test(password)) throw new SimError('PARAM.INVALID', 'pass_type 1 needs an MD5 hex password');
    if (p.passchange_req !== undefined && !['0', '1', '2'].includes(p.passchange_req)) throw new SimError('PARAM.INVALID', 'passchange_req must be 0, 1 or 2');
    const unitId = this.resolveUnitId(p.unit_id ?? 'default');
    const key = name.toLowerCase();
    if (this.s.accounts[key]) throw new SimError('MAILACCOUNT.NAMEEXIST', `account ${name} exists`);
    // One address namespace: an alias or a mailing list holds the name (netease-sim.maillist.ts).
    if (this.s.aliasOwners?.[key] !== undefined || this.s.maillists?.[key]) throw new SimError('MAILACCOUNT.NAMEEXIST', `${name} is an alias or a mailing list`);
    const acc: SimAccount = {
      account_name: name,
      account_openid: randomBytes(8).toString('hex'),
      nickname,
      unit_id: unitId,
      status: 0,
      create_time: this.now(),
      password_sets: 1,
      unread: 0,
    };
    applyOptional(acc, p);
    this.s.accounts[key] = acc;
    return this.accountCon(acc);
  }

  getAccount(p: Params): Record<string, unknown> {
    return this.accountCon(this.account(required(p, 'account_name')));
  }

  updateAccount(p: Params): null {
    const acc = this.account(required(p, 'account_name'), { live: true });
    if (p.nickname !== undefined) acc.nickname = p.nickname;
    if (p.unit_id !== undefined) acc.unit_id = this.resolveUnitId(p.unit_id);
    if (p.password !== undefined) acc.password_sets++;
    applyOptional(acc, p);
    return null;
  }

  updatePassword(p: Params): null {
    const acc = this.account(required(p, 'account_name'), { live: true });
    required(p, 'password');
    acc.password_sets++;
    return null;
  }

  moveUnit(p: Params): null {
    const acc = this.account(required(p, 'account_name'), { live: true });
    acc.unit_id = this.resolveUnitId(required(p, 'unit_id'));
    return null;
  }

  suspendAccount(p: Params): null {
    const acc = this.account(required(p, 'account_name'), { live: true });
    acc.status = 1;
    return null;
  }

  recoverAccount(p: Params): null {
    const acc = this.account(required(p, 'account_name'));
    // A recovered account whose unit was deleted meanwhile lands in the default unit.
    if (!this.isDefaultUnit(acc.unit_id) && !this.s.units[acc.unit_id]) acc.unit_id = this.defaultUnitId;
    acc.status = 0;
    delete acc.deleted_at;
    return null;
  }

  deleteAccountSim(p: Params): null {
    const acc = this.account(required(p, 'account_name'));
    if (acc.status !== 2) {
      acc.status = 2;
      acc.deleted_at = this.now();
    }
    return null;
  }

  // ---- mail ----------------------------------------------------------------------------

  getReceivedMailLogs(p: Params): Record<string, unknown> {
    const names = new Set(
      required(p, 'accounts')
        .split(',')
        .map((a) => a.trim().toLowerCase().replace(`@${this.s.domain}`, ''))
        .filter(Boolean),
    );
    const start = normalizeBound(required(p, 'start'), 'start');
    const end = normalizeBound(required(p, 'end'), 'end');
    const all = this.s.mailLogs
      .filter((l) => names.has(l.account_name.toLowerCase()) && l.sendtime >= start && l.sendtime <= end)
      .map(({ account_name: _omit, ...rest }) => rest);
    const shape = this.mailLogShape();
    if (shape.newestFirst) all.reverse();
    // A capped answer (MailLogShape): `total` says how many there were, `list` holds the first `limit`.
    const list = shape.limit !== undefined ? all.slice(0, shape.limit) : all;
    return { total: all.length, list };
  }

  /** Test hook: a mail arrives for the account (unread +1, a received-mail log entry). */
  deliverMail(accountName: string, mail: { from?: string; subject?: string; size?: number }): SimMailLog {
    const acc = this.account(accountName);
    acc.unread++;
    const entry: SimMailLog = {
      account_name: acc.account_name,
      mailfrom: mail.from ?? 'sender@example.net',
      mailto: `${acc.account_name}@${this.s.domain}`,
      subject: mail.subject ?? '(no subject)',
      sendtime: chinaTime(this.now()),
      sendip: '127.0.0.1',
      mailsize: mail.size ?? 2048,
      result: '1',
    };
    this.s.mailLogs.push(entry);
    if (this.s.mailLogs.length > 10_000) this.s.mailLogs.splice(0, this.s.mailLogs.length - 10_000);
    // The same mail lands in the inbox (folder 1), with an id the web UI opens it by (SSO `mid`).
    const box = ((this.s.mailboxes ??= {})[acc.account_name.toLowerCase()] ??= []);
    const seq = (this.s.nextMessageSeq = (this.s.nextMessageSeq ?? 0) + 1);
    box.push({ id: `1tbi${this.s.domainId}${String(seq).padStart(8, '0')}`, fid: 1, from: entry.mailfrom, subject: entry.subject, receivedDate: entry.sendtime });
    if (box.length > 1000) box.splice(0, box.length - 1000);
    return entry;
  }

  /**
   * mailbox/listMessages (reference §2 "Other", S1): `account_name` and `params` = JSON
   * `{fids, order, desc, start, limit, returnTotal}`. The reference leaves the answer
   * unconfirmed; this simulator answers `{total, list:[{id, fid, from, subject, receivedDate}]}`
   * (our assumption, mirrored by the client, which also accepts a bare array).
   */
  listMessages(p: Params): Record<string, unknown> {
    const acc = this.account(required(p, 'account_name'));
    let q: { fids?: unknown; desc?: unknown; start?: unknown; limit?: unknown };
    try {
      q = JSON.parse(required(p, 'params')) as typeof q;
    } catch {
      throw new SimError('PARAM.INVALID', 'params is not JSON');
    }
    const fids = Array.isArray(q.fids) ? new Set(q.fids.map(Number)) : new Set([1]);
    const start = Number.isInteger(q.start) ? (q.start as number) : 0;
    const limit = Number.isInteger(q.limit) ? Math.min(q.limit as number, 200) : 20;
    const all = (this.s.mailboxes?.[acc.account_name.toLowerCase()] ?? []).filter((m) => fids.has(m.fid));
    const ordered = q.desc === false ? all : [...all].reverse();
    return { total: all.length, list: ordered.slice(start, start + limit) };
  }

  setUnread(accountName: string, count: number): void {
    this.account(accountName).unread = count;
  }

  /** The account (live or soft-deleted) or ACCOUNT.NOTEXIST; purges expired soft deletes first. */
  account(name: string, opts: { live?: boolean } = {}): SimAccount {
    this.purgeExpired();
    const acc = this.s.accounts[name.toLowerCase()];
    if (!acc) throw new SimError('ACCOUNT.NOTEXIST', `account ${name} does not exist`);
    if (opts.live && acc.status === 2) throw new SimError('ACCOUNT.STATUS_INVALID', `account ${name} is deleted; recover it first`);
    return acc;
  }

  accountCon(a: SimAccount): Record<string, unknown> {
    const con: Record<string, unknown> = {
      account_name: a.account_name,
      account_openid: a.account_openid,
      nickname: a.nickname,
      domain_openid: this.s.domainId,
      unit_id: a.unit_id,
      unit_list: [a.unit_id],
      create_time: a.create_time,
      status: a.status,
      type: 2,
    };
    for (const k of ['mobile', 'job_no', 'exp_time', 'quota'] as const) if (a[k] !== undefined) con[k] = a[k];
    return con;
  }

  /** Seed directly (adoption tests): units by name with optional parent name or id, accounts by unit name or id. */
  seed(input: { units?: Array<{ unit_id?: string; unit_name: string; parent_id?: string; parent_name?: string; unit_desc?: string }>; accounts?: Array<Record<string, unknown>> }): { units: Record<string, string>; accounts: string[] } {
    const unitIds: Record<string, string> = {};
    for (const u of input.units ?? []) {
      const parent = u.parent_id ?? (u.parent_name ? this.unitByName(u.parent_name).unit_id : undefined);
      if (u.unit_id) {
        if (this.s.units[u.unit_id]) throw new SimError('UNIT.EXIST', `unit id ${u.unit_id} exists`);
        if (parent) this.unit(parent, { allowDefault: false });
        this.assertUnitNameFree(u.unit_name);
        const unit: SimUnit = { unit_id: u.unit_id, unit_name: u.unit_name, rank: 0, created: this.now() };
        if (parent) unit.parent_id = parent;
        if (u.unit_desc) unit.unit_desc = u.unit_desc;
        this.s.units[u.unit_id] = unit;
        if (/^\d+$/.test(u.unit_id)) this.s.nextUnitId = Math.max(this.s.nextUnitId, Number(u.unit_id) + 1);
        unitIds[u.unit_name] = u.unit_id;
      } else {
        const con = this.createUnit(compactStrings({ unit_name: u.unit_name, parent_id: parent, unit_desc: u.unit_desc }));
        unitIds[u.unit_name] = String(con.unit_id);
      }
    }
    const names: string[] = [];
    for (const a of input.accounts ?? []) {
      const raw = compactStrings(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v === undefined || v === null ? undefined : String(v)])));
      const unitName = raw.unit_name;
      const params: Record<string, string> = { password: 'seeded-password', nickname: raw.account_name ?? '', ...raw };
      delete params.unit_name;
      delete params.status;
      if (unitName) params.unit_id = this.unitByName(unitName).unit_id;
      this.createAccount(params);
      const acc = this.account(params.account_name ?? '');
      acc.password_sets = 0;
      if (raw.status === '1' || raw.status === '2') acc.status = Number(raw.status) as 1 | 2;
      if (acc.status === 2) acc.deleted_at = this.now();
      if (raw.unread !== undefined) acc.unread = Number(raw.unread) || 0;
      names.push(acc.account_name);
    }
    return { units: unitIds, accounts: names };
  }

  private unitByName(name: string): SimUnit {
    const u = Object.values(this.s.units).find((x) => x.unit_name === name);
    if (!u) throw new SimError('UNIT.NOTEXIST', `no unit named ${name}`);
    return u;
  }

  /**
   * Drops soft-deleted accounts past NetEase's 7-day window. Every account lookup calls it, so
   * it scans the domain at most once per simulated second: a scan per call made each of a
   * 10,000-mailbox full run's getAccount reads O(n), and the simulator, not the rate limit,
   * bounded the sync bench. A clock moved back (tests) scans again at once.
   */
  private purgeExpired(): void {
    const now = this.now();
    if (this.purgedAt !== undefined && now >= this.purgedAt && now - this.purgedAt < 1000) return;
    this.purgedAt = now;
    for (const k in this.s.accounts) {
      const a = this.s.accounts[k]!;
      if (a.status === 2 && a.deleted_at !== undefined && now - a.deleted_at > SOFT_DELETE_MS) delete this.s.accounts[k];
    }
  }
  private purgedAt: number | undefined;

  private isDefaultUnit(id: string): boolean {
    return id === 'default' || id === this.defaultUnitId;
  }

  private resolveUnitId(id: string): string {
    if (this.isDefaultUnit(id)) return this.defaultUnitId;
    return this.unit(id, { allowDefault: false }).unit_id;
  }

  private unit(id: string, opts: { allowDefault: boolean }): SimUnit {
    if (!opts.allowDefault && this.isDefaultUnit(id)) throw new SimError('UNIT.DEFAULT_READONLY', 'the default unit cannot be changed or used here');
    const u = this.s.units[id];
    if (!u) throw new SimError('UNIT.NOTEXIST', `unit ${id} does not exist`);
    return u;
  }

  private assertUnitNameFree(name: string): void {
    if (Object.values(this.s.units).some((u) => u.unit_name === name)) throw new SimError('UNIT.EXIST', `a unit named ${name} exists in ${this.s.domain}`);
  }
}

function unitCon(u: SimUnit): Record<string, unknown> {
  const con: Record<string, unknown> = { unit_id: u.unit_id, unit_name: u.unit_name, rank: u.rank };
  // Top-level units carry no parent_id (§2 getUnitList).
  if (u.parent_id) con.parent_id = u.parent_id;
  if (u.unit_desc) con.unit_desc = u.unit_desc;
  return con;
}

function applyOptional(acc: SimAccount, p: Params): void {
  if (p.mobile !== undefined) acc.mobile = p.mobile;
  if (p.job_no !== undefined) acc.job_no = p.job_no;
  if (p.exp_time !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(p.exp_time)) throw new SimError('PARAM.INVALID', 'exp_time must be yyyy-MM-dd');
    acc.exp_time = p.exp_time;
  }
  if (p.quota !== undefined) acc.quota = p.quota;
}

/** A legacy-API parameter that must be present and non-empty (else PARAM.MISSING). */
export function required(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === '') throw new SimError('PARAM.MISSING', `${name} is required`);
  return v;
}

/** A field of an open-platform JSON body as text: a non-empty string, or a finite number as a string. */
export function bodyText(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function compactStrings(o: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** `yyyy-MM-dd HH:mm:ss` in China time (UTC+8, no DST). */
export function chinaTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Expand `yyyy-MM-dd[ HH:mm[:ss]]` to a full timestamp; an end date covers its whole day. */
function normalizeBound(v: string, which: 'start' | 'end'): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2})(:\d{2})?)?$/.exec(v);
  if (!m) throw new SimError('PARAM.INVALID', `${which} must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss`);
  const fill = which === 'start' ? ['00:00', ':00'] : ['23:59', ':59'];
  return `${m[1]} ${m[2] ?? fill[0]}${m[3] ?? fill[1]}`;
}
