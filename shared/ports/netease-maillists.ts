/**
 * NetEase mailing lists and account aliases, as the sync engine reads and writes them
 * (plan/maillists.ts, plan/aliases.ts; applied by use-cases/sync/apply-mail-operation.ts).
 * Part of {@link NeteaseDirectory} as optional capabilities: aliases come from the legacy
 * API (reference netease-qiye-api.md §2), lists from the open platform (§4), which the
 * wiring adds only for tenants that configure it (shared/wiring/tenant-clients.ts).
 */

/** One mailing list of the domain. */
export interface NeteaseMailList {
  /** The list's local part, e.g. `sales` for sales@acme.com. */
  name: string;
  displayName?: string;
}

/** The list calls (open platform `maillist/*`, §4; see the client for what is unconfirmed). */
export interface NeteaseMailLists {
  /** Every mailing list of the domain, all pages read. */
  listMailLists(): Promise<NeteaseMailList[]>;
  /** The list's members: local parts (lowercase) for addresses of the domain, full addresses otherwise. Throws kind `notFound` for an unknown list. */
  getMailListMembers(name: string): Promise<string[]>;
  /** Create a list. `members` are local parts of the domain. Throws kind `duplicate` when the address is taken. */
  createMailList(input: { name: string; displayName: string; members: readonly string[] }): Promise<void>;
  /** Set the list's display name and its whole member set. Throws kind `notFound` for an unknown list. */
  updateMailList(name: string, input: { displayName: string; members: readonly string[] }): Promise<void>;
  /** Delete a list. Throws kind `notFound` when it is gone already. */
  deleteMailList(name: string): Promise<void>;
}

/** Account aliases (legacy account/*Alias*, §2). Alias names are local parts. */
export interface NeteaseAliases {
  /** account/getAccountAliasList: the account's aliases (lowercase local parts of the domain). */
  getAccountAliases(accountName: string): Promise<string[]>;
  /** account/addAccountAlias. Throws kind `duplicate` when the address is taken. */
  addAccountAlias(accountName: string, aliasName: string): Promise<void>;
  /** account/deleteAccountAlias. Throws kind `notFound` when the alias (or account) is gone. */
  deleteAccountAlias(accountName: string, aliasName: string): Promise<void>;
}
