/**
 * The identity links' dependencies over a process's tenant clients.
 *
 * The source's people come from the sync source's full read (EKP: the whole org). A
 * contact callback re-links one user at a time, so the read is kept for
 * {@link SOURCE_PEOPLE_TTL_MS} in the process: a burst of callbacks costs one source read,
 * and a person added to EKP a moment ago is found by the next read after that. Our choice;
 * the sync's mapping table has no match attributes to match against.
 */
import type { TenantConfig } from '../config/tenant-config.schema';
import type { Person } from '../domain/directory';
import type { Logger } from '../logging/logger';
import type { Clock } from '../ports/clock';
import type { IdentityLinkStore } from '../ports/identity-link-store';
import type { LinksDeps } from '../use-cases/links/links-deps';
import type { TenantClients } from './tenant-clients';

export const SOURCE_PEOPLE_TTL_MS = 5 * 60_000;

export function linksDepsOf(input: { links: IdentityLinkStore; clients: TenantClients; clock: Clock; logger: Logger }): LinksDeps {
  const { clients, clock } = input;
  const people = new Map<string, { at: number; people: Promise<Person[]> }>();
  return {
    links: input.links,
    clock,
    logger: input.logger,
    sourcePeople(tenant: TenantConfig) {
      const hit = people.get(tenant.id);
      if (hit && clock.now() - hit.at < SOURCE_PEOPLE_TTL_MS) return hit.people;
      const p = clients.directorySource(tenant).then(async (s) => (await s.fullSnapshot()).people);
      people.set(tenant.id, { at: clock.now(), people: p });
      p.catch(() => people.delete(tenant.id)); // a failed read is not kept
      return p;
    },
    channelDirectory: (tenant, channel) => clients.channelDirectory(tenant, channel),
  };
}
