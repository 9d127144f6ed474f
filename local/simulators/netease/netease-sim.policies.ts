/**
 * The NetEase simulator's mailbox settings: the optional createAccount/updateAccount fields
 * the bridge sends for policies and leaver forwarding (`quota`, `addr_visible`,
 * `addr_right`, `fwd`, `fwdauth`: reference netease-qiye-api.md §2), and
 * address/updateAccountRank (§2, S1). Hooked into the legacy route table
 * (netease.simulator.ts): createAccount and updateAccount validate these fields before the
 * model changes anything, and store them once the call succeeded.
 *
 * Strict like the rest of the simulator: a value outside what the evidence shows is refused
 * with PARAM.INVALID, never stored. The ranges are our reading of thin evidence (S1's
 * `UpdateAccount.java` sends quota=5120, addr_right=0, addr_visible=0): positive integers
 * for quota, 0/1 for the flags, one mail address for fwd. Unconfirmed; see the README.
 */
import { SimError, type DomainModel, type Params, type SimAccount } from './netease-sim.state';

/** The settings the simulator keeps per account (part of SimAccount). */
export interface SimMailboxSettings {
  addr_visible?: '0' | '1';
  addr_right?: '0' | '1';
  fwd?: string;
  fwdauth?: '0' | '1';
  /** address/updateAccountRank. */
  rank?: number;
}

const FLAG = /^[01]$/;
const ADDRESS = /^[^\s@,;]+@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$/i;

type SettingsAccount = SimAccount & SimMailboxSettings;

/** Refuse a bad setting before the model changes anything. */
export function checkMailboxSettings(p: Params): void {
  if (p.quota !== undefined && (!/^\d{1,9}$/.test(p.quota) || Number(p.quota) <= 0)) throw new SimError('PARAM.INVALID', 'quota must be a positive integer');
  for (const k of ['addr_visible', 'addr_right', 'fwdauth'] as const) {
    if (p[k] !== undefined && !FLAG.test(p[k])) throw new SimError('PARAM.INVALID', `${k} must be 0 or 1`);
  }
  if (p.fwd !== undefined && !ADDRESS.test(p.fwd)) throw new SimError('PARAM.INVALID', 'fwd must be one mail address');
}

/** Store the settings of a call that succeeded (quota is stored by the model itself). */
export function storeMailboxSettings(acc: SettingsAccount, p: Params): void {
  for (const k of ['addr_visible', 'addr_right', 'fwdauth'] as const) if (p[k] !== undefined) acc[k] = p[k] as '0' | '1';
  if (p.fwd !== undefined) acc.fwd = p.fwd.toLowerCase();
}

/** address/updateAccountRank: `account_name`, integer `rank`; a deleted account is refused. */
export function updateAccountRank(account: (name: string) => SettingsAccount, p: Params): null {
  const name = p.account_name;
  if (name === undefined || name === '') throw new SimError('PARAM.MISSING', 'account_name is required');
  if (p.rank === undefined || p.rank === '') throw new SimError('PARAM.MISSING', 'rank is required');
  if (!/^-?\d{1,10}$/.test(p.rank)) throw new SimError('PARAM.INVALID', 'rank must be an integer');
  const acc = account(name);
  if (acc.status === 2) throw new SimError('ACCOUNT.STATUS_INVALID', `account ${name} is deleted; recover it first`);
  acc.rank = Number(p.rank);
  return null;
}

type Route = { handler: (m: DomainModel, p: Params) => unknown; mutates: boolean };

/**
 * Routes spread over the simulator's legacy table: createAccount and updateAccount with the
 * settings checked first and stored after, and address/updateAccountRank.
 */
export const MAILBOX_SETTINGS_API: Record<string, Route> = {
  'account/createAccount': checked((m, p) => m.createAccount(p)),
  'account/updateAccount': checked((m, p) => m.updateAccount(p)),
  'address/updateAccountRank': { handler: (m, p) => updateAccountRank((name) => m.account(name), p), mutates: true },
};

/** A model call with the settings checked before and stored after it. */
function checked(call: (m: DomainModel, p: Params) => unknown): Route {
  return {
    handler: (m, p) => {
      checkMailboxSettings(p);
      const out = call(m, p);
      storeMailboxSettings(m.account(p.account_name ?? ''), p);
      return out;
    },
    mutates: true,
  };
}
