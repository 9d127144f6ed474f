/** The in-memory twin of DynamoLinkStore (same contract: test/contracts/identity-link-store.contract.ts). */
import { assertLinkWrite, type IdentityLink, type IdentityLinkStore, type IdentityLinkWrite } from '../../ports/identity-link-store';
import { assertTenant } from '../../ports/store-validation';
import { copy, MemoryStore } from './memory-common';

export class MemoryLinkStore extends MemoryStore implements IdentityLinkStore {
  private readonly links = new Map<string, IdentityLink>();

  async get(tenantId: string, channelId: string, channelUserId: string): Promise<IdentityLink | undefined> {
    assertTenant(tenantId);
    const l = this.links.get(key(tenantId, channelId, channelUserId));
    return l ? copy(l) : undefined;
  }

  async put(write: IdentityLinkWrite): Promise<IdentityLink> {
    assertTenant(write.tenantId);
    const link: IdentityLink = { ...copy(assertLinkWrite(write)), updatedAt: this.clock.now() };
    this.links.set(key(link.tenantId, link.channelId, link.channelUserId), link);
    return copy(link);
  }

  async delete(tenantId: string, channelId: string, channelUserId: string): Promise<boolean> {
    assertTenant(tenantId);
    return this.links.delete(key(tenantId, channelId, channelUserId));
  }

  async *list(tenantId: string, channelId: string): AsyncIterable<IdentityLink> {
    assertTenant(tenantId);
    const mine = [...this.links.values()].filter((l) => l.tenantId === tenantId && l.channelId === channelId);
    mine.sort((a, b) => (a.channelUserId < b.channelUserId ? -1 : a.channelUserId > b.channelUserId ? 1 : 0));
    for (const l of mine) yield copy(l);
  }

  async listByPerson(tenantId: string, personId: string): Promise<IdentityLink[]> {
    assertTenant(tenantId);
    return [...this.links.values()].filter((l) => l.tenantId === tenantId && l.status === 'linked' && l.personId === personId).map(copy);
  }
}

const key = (t: string, c: string, u: string) => JSON.stringify([t, c, u]);
