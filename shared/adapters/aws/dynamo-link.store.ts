/**
 * IdentityLinkStore on the single table (table-definition.ts), following table-keys.ts's
 * conventions (ids through `esc()`, tenants `T#{t}`). Key builders live beside the items:
 *
 * | item          | pk                        | sk              | gsi1pk (linked only) | gsi1sk                                |
 * |---------------|---------------------------|-----------------|----------------------|---------------------------------------|
 * | identity link | T#{t}#LINK#{channelId}    | {channelUserId} | T#{t}#LINKP          | {personId}#{channelId}#{channelUserId} |
 *
 * Both ways in one item: the base table answers "who is this channel user" (sign-in,
 * notices, one GetItem), gsi1 answers "which channel users are this person" (`explain`).
 * Ambiguous and unmatched links carry no gsi1 keys, so they never show as a person's link.
 */
import { DeleteCommand, GetCommand, PutCommand, type DeleteCommandOutput, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { assertLinkWrite, type IdentityLink, type IdentityLinkStore, type IdentityLinkWrite } from '../../ports/identity-link-store';
import { assertTenant } from '../../ports/store-validation';
import { compact, DynamoStore, type Item } from './dynamo-base.store';
import { esc, type ItemKey } from './table-keys';

export const linkKeys = {
  partition: (tenantId: string, channelId: string) => `T#${esc(tenantId)}#LINK#${esc(channelId)}`,
  link: (tenantId: string, channelId: string, userId: string): ItemKey => ({ pk: linkKeys.partition(tenantId, channelId), sk: esc(userId) }),
  personPartition: (tenantId: string) => `T#${esc(tenantId)}#LINKP`,
  personSort: (personId: string, channelId: string, userId: string) => `${esc(personId)}#${esc(channelId)}#${esc(userId)}`,
};

export class DynamoLinkStore extends DynamoStore implements IdentityLinkStore {
  async get(tenantId: string, channelId: string, channelUserId: string): Promise<IdentityLink | undefined> {
    assertTenant(tenantId);
    const out = await this.table.send<GetCommandOutput>(
      'identity link get',
      new GetCommand({ TableName: this.table.tableName, Key: { ...linkKeys.link(tenantId, channelId, channelUserId) }, ConsistentRead: true }),
    );
    return out.Item ? toLink(out.Item as Item) : undefined;
  }

  async put(write: IdentityLinkWrite): Promise<IdentityLink> {
    assertTenant(write.tenantId);
    const w = assertLinkWrite(write);
    const link: IdentityLink = { ...w, updatedAt: this.table.clock.now() };
    const reverse = w.status === 'linked' ? { gsi1pk: linkKeys.personPartition(w.tenantId), gsi1sk: linkKeys.personSort(w.personId!, w.channelId, w.channelUserId) } : {};
    await this.table.send('identity link put', new PutCommand({ TableName: this.table.tableName, Item: compact({ ...linkKeys.link(w.tenantId, w.channelId, w.channelUserId), ...reverse, ...link }) }));
    return link;
  }

  async delete(tenantId: string, channelId: string, channelUserId: string): Promise<boolean> {
    assertTenant(tenantId);
    const out = await this.table.send<DeleteCommandOutput>(
      'identity link delete',
      new DeleteCommand({ TableName: this.table.tableName, Key: { ...linkKeys.link(tenantId, channelId, channelUserId) }, ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes !== undefined;
  }

  async *list(tenantId: string, channelId: string): AsyncIterable<IdentityLink> {
    assertTenant(tenantId);
    const items = this.table.queryAll('identity link list', { KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': linkKeys.partition(tenantId, channelId) }, ConsistentRead: true }, 500);
    for await (const item of items) yield toLink(item);
  }

  async listByPerson(tenantId: string, personId: string): Promise<IdentityLink[]> {
    assertTenant(tenantId);
    const out: IdentityLink[] = [];
    const items = this.table.queryAll('identity link by person', {
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :s)',
      ExpressionAttributeValues: { ':p': linkKeys.personPartition(tenantId), ':s': `${esc(personId)}#` },
    });
    for await (const item of items) {
      const link = toLink(item);
      if (link.personId === personId && link.status === 'linked') out.push(link);
    }
    return out;
  }
}

function toLink(item: Item): IdentityLink {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as unknown as IdentityLink;
}
