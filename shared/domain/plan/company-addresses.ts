/**
 * Stage 0a, company addresses only: an e-mail address counts for naming (the
 * emailLocalPart rule), matching (the `email` match attribute) and `onlyWithEmail` only when
 * its domain is the tenant's NetEase mail domain or one of `sync.acceptedEmailDomains`.
 * Anything else (qq.com, 163.com: a personal address typed into the OA) is removed from the
 * person for this plan, with a note per person, so nobody gets a company mailbox named
 * after a personal address. Domains compare case-insensitively and exactly (a subdomain is
 * not accepted unless listed: our choice, the reference says nothing about aliases).
 * Without a `mailDomain` (unit tests of other stages) addresses are taken as they are.
 */
import type { Person } from '../directory';
import type { ObjectNote, PlanSyncInput } from '../sync-plan';

export function companyAddressesOnly(input: PlanSyncInput): { input: PlanSyncInput; notes: ObjectNote[] } {
  const own = input.mailDomain?.trim().toLowerCase();
  if (!own) return { input, notes: [] };
  const accepted = new Set([own, ...(input.settings.acceptedEmailDomains ?? []).map((d) => d.trim().toLowerCase())]);
  const notes: ObjectNote[] = [];
  const filter = (people: readonly Person[]): Person[] =>
    people.map((p) => {
      if (p.email === undefined || p.email.trim() === '') return p;
      const at = p.email.lastIndexOf('@');
      const domain = at < 0 ? '' : p.email.slice(at + 1).trim().toLowerCase();
      if (accepted.has(domain)) return p;
      notes.push({ type: 'person', sourceId: p.id, code: 'personalAddressIgnored', detail: `the address's domain ${domain === '' ? '(none)' : domain} is not a company domain (${[...accepted].join(', ')}); it is not used for naming, matching or onlyWithEmail` });
      const { email: _ignored, ...rest } = p;
      return rest;
    });
  const source = input.source.kind === 'snapshot'
    ? { kind: 'snapshot' as const, snapshot: { ...input.source.snapshot, people: filter(input.source.snapshot.people) } }
    : { kind: 'changes' as const, changes: { ...input.source.changes, people: filter(input.source.changes.people) } };
  return { input: { ...input, source }, notes };
}
