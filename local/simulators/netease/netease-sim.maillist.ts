/**
 * The NetEase simulator's mail features: account aliases on the legacy API (reference
 * netease-qiye-api.md §2: account/addAccountAlias, deleteAccountAlias, getAccountAliasList
 * with `account_name` and `alias_name` as a local part) and mailing lists on the open
 * platform (§4 `maillist/*`). Hooked into netease.simulator.ts's route tables; state lives in
 * the domain's DomainState (`aliases`, `aliasOwners`, `maillists`).
 *
 * Rules (NetEase documents none of them; readable choices, like the rest of the simulator):
 * - accounts, aliases and lists share one namespace per domain: an alias or a list whose
 *   address is an account (any status), an alias or a list is refused (`ALIAS.EXIST`,
 *   `MAILLIST.EXIST`, `MAILACCOUNT.NAMEEXIST`), and createAccount refuses an address an alias
 *   or a list holds (netease-sim.state.ts);
 * - an alias is added to a live account only (`ACCOUNT.NOTEXIST` / `ACCOUNT.STATUS_INVALID`);
 *   removing one the account does not have is `ALIAS.NOTEXIST`;
 * - lists: createMaillist / updateMaillist take the fields of NetEase's UpdateMaillist demo
 *   (N1): `accountName` (local part), `name`, `mailListUserType` 0|2|3|4, `visibleInAddr`
 *   0|1, `members` (comma-separated addresses) and/or `memberUnits` (unit ids), at least one.
 *   A member address of the domain must be an existing account that is not deleted
 *   (`ACCOUNT.NOTEXIST`); other domains are accepted. Update replaces the whole list.
 *   Unknown list: `MAILLIST.NOTEXIST` (answered -4). The names createMaillist,
 *   deleteMaillist, getMaillistList and getMaillistMember are the bridge's unconfirmed
 *   choice (shared/adapters/netease/netease-open.client.ts), served here as it calls them.
 */
import { bodyText, type DomainModel, required, SimError, type Params, type SimMailList } from './netease-sim.state';

const LOCAL_PART = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** Which feature holds `name` (lowercase local part), if any. */
export function addressHolder(m: DomainModel, name: string): 'account' | 'alias' | 'list' | undefined {
  const k = name.toLowerCase();
  if (m.s.accounts[k]) return 'account';
  if (m.s.aliasOwners?.[k] !== undefined) return 'alias';
  if (m.s.maillists?.[k]) return 'list';
  return undefined;
}

function refuseTaken(m: DomainModel, name: string): void {
  const held = addressHolder(m, name);
  if (held === 'account') throw new SimError('MAILACCOUNT.NAMEEXIST', `${name} is an account`);
  if (held === 'alias') throw new SimError('ALIAS.EXIST', `${name} is an alias`);
  if (held === 'list') throw new SimError('MAILLIST.EXIST', `${name} is a mailing list`);
}

/** Legacy API routes (§2), merged into netease.simulator.ts's API table. */
export const ALIAS_API: Record<string, { handler: (m: DomainModel, p: Params) => unknown; mutates: boolean }> = {
  'account/addAccountAlias': {
    handler: (m, p) => {
      const acc = m.account(required(p, 'account_name'), { live: true });
      const alias = required(p, 'alias_name');
      if (!LOCAL_PART.test(alias)) throw new SimError('PARAM.INVALID', 'alias_name must be a local part: letters, digits, . _ - (max 64)');
      refuseTaken(m, alias);
      const key = acc.account_name.toLowerCase();
      const a = alias.toLowerCase();
      m.s.aliases ??= {};
      m.s.aliasOwners ??= {};
      m.s.aliases[key] = [...(m.s.aliases[key] ?? []), a];
      m.s.aliasOwners[a] = key;
      return null;
    },
    mutates: true,
  },
  'account/deleteAccountAlias': {
    handler: (m, p) => {
      const acc = m.account(required(p, 'account_name'));
      const a = required(p, 'alias_name').toLowerCase();
      const key = acc.account_name.toLowerCase();
      const list = m.s.aliases?.[key] ?? [];
      if (!list.includes(a)) throw new SimError('ALIAS.NOTEXIST', `account ${acc.account_name} has no alias ${a}`);
      m.s.aliases![key] = list.filter((x) => x !== a);
      delete m.s.aliasOwners![a];
      return null;
    },
    mutates: true,
  },
  'account/getAccountAliasList': {
    handler: (m, p) => {
      const acc = m.account(required(p, 'account_name'));
      return { alias: (m.s.aliases?.[acc.account_name.toLowerCase()] ?? []).map((a) => `${a}@${m.s.domain}`) };
    },
    mutates: false,
  },
};

type OpenBody = Record<string, unknown>;

function listOf(m: DomainModel, b: OpenBody): SimMailList {
  const name = bodyText(b, 'accountName');
  if (!name) throw new SimError('PARAM.MISSING', 'accountName is required');
  const l = m.s.maillists?.[name.toLowerCase()];
  if (!l) throw new SimError('MAILLIST.NOTEXIST', `no mailing list ${name}`);
  return l;
}

/** The list fields of createMaillist / updateMaillist (module doc), validated. */
function listFields(m: DomainModel, b: OpenBody): Pick<SimMailList, 'name' | 'members' | 'member_units' | 'mail_list_user_type' | 'visible_in_addr'> {
  const name = bodyText(b, 'name');
  if (!name) throw new SimError('PARAM.MISSING', 'name is required');
  const type = Number(bodyText(b, 'mailListUserType') ?? '0');
  if (![0, 2, 3, 4].includes(type)) throw new SimError('PARAM.INVALID', 'mailListUserType must be 0, 2, 3 or 4');
  const visible = Number(bodyText(b, 'visibleInAddr') ?? '1');
  if (visible !== 0 && visible !== 1) throw new SimError('PARAM.INVALID', 'visibleInAddr must be 0 or 1');
  const members = (bodyText(b, 'members') ?? '').split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
  const units = (bodyText(b, 'memberUnits') ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (members.length === 0 && units.length === 0) throw new SimError('PARAM.MISSING', 'members or memberUnits is required');
  for (const addr of members) {
    const at = addr.indexOf('@');
    if (at <= 0) throw new SimError('PARAM.INVALID', `members must be addresses: ${addr}`);
    if (addr.slice(at + 1) !== m.s.domain) continue;
    const acc = m.s.accounts[addr.slice(0, at)];
    if (!acc || acc.status === 2) throw new SimError('ACCOUNT.NOTEXIST', `ACCOUNT.NOTEXIST:${addr}`);
  }
  for (const u of units) if (!m.s.units[u]) throw new SimError('UNIT.NOTEXIST', `unit ${u} does not exist`);
  return { name, members: [...new Set(members)].sort(), member_units: units, mail_list_user_type: type, visible_in_addr: visible };
}

/** Open-platform routes (§4 `maillist/*`), merged into netease.simulator.ts's OPEN_API table. */
export const MAILLIST_OPEN_API: Record<string, { handler: (m: DomainModel, b: OpenBody) => unknown; mutates: boolean }> = {
  'maillist/createMaillist': {
    handler: (m, b) => {
      const name = bodyText(b, 'accountName');
      if (!name) throw new SimError('PARAM.MISSING', 'accountName is required');
      if (!LOCAL_PART.test(name)) throw new SimError('PARAM.INVALID', 'accountName must be a local part');
      const fields = listFields(m, b);
      refuseTaken(m, name);
      m.s.maillists ??= {};
      m.s.maillists[name.toLowerCase()] = { account_name: name.toLowerCase(), ...fields, created: Date.now() };
      return null;
    },
    mutates: true,
  },
  'maillist/updateMaillist': {
    handler: (m, b) => {
      const l = listOf(m, b);
      Object.assign(l, listFields(m, b));
      return null;
    },
    mutates: true,
  },
  'maillist/deleteMaillist': {
    handler: (m, b) => {
      const l = listOf(m, b);
      delete m.s.maillists![l.account_name];
      return null;
    },
    mutates: true,
  },
  'maillist/getMaillistList': {
    handler: (m, b) => {
      const pageNum = Number(bodyText(b, 'pageNum') ?? '1');
      const pageSize = Number(bodyText(b, 'pageSize') ?? '100');
      if (!Number.isInteger(pageNum) || pageNum < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new SimError('PARAM.INVALID', 'pageNum >= 1 and pageSize 1-1000 are required');
      const all = Object.values(m.s.maillists ?? {}).sort((x, y) => x.account_name.localeCompare(y.account_name));
      const list = all.slice((pageNum - 1) * pageSize, pageNum * pageSize).map((l) => ({ accountName: `${l.account_name}@${m.s.domain}`, name: l.name, mailListUserType: l.mail_list_user_type }));
      return { count: all.length, list };
    },
    mutates: false,
  },
  'maillist/getMaillistMember': {
    handler: (m, b) => ({ members: listOf(m, b).members }),
    mutates: false,
  },
};
