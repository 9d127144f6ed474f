/**
 * ConsoleStore on the single table (key layout in table-keys.ts): sessions under
 * `CONSOLE#SESSION` / `{sha256}`, audit entries under `T#{t}#AUDIT` / `{at}#{random}` so one
 * backwards Query lists a tenant's log newest first. Expiry is checked on read (TTL lags).
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, type DeleteCommandOutput, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { assertAudit, assertSession, AUDIT_TTL_SECONDS, type AuditEntry, type ConsoleSession, type ConsoleStore } from '../../ports/console-store';
import type { Page, PageOptions } from '../../ports/store-common';
import { expiresAtFor, isExpired } from '../../ports/store-validation';
import { compact, DynamoStore, type Item } from './dynamo-base.store';
import { keys } from './table-keys';

export class DynamoConsoleStore extends DynamoStore implements ConsoleStore {
  async putSession(session: ConsoleSession): Promise<void> {
    assertSession(session);
    await this.table.send(
      'console session put',
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.consoleSession(session.idHash), subjectJson: JSON.stringify(session.subject), createdAt: session.createdAt, expiresAtMs: session.expiresAt, expiresAt: Math.ceil(session.expiresAt / 1000) },
      }),
    );
  }

  async getSession(idHash: string): Promise<ConsoleSession | undefined> {
    if (!/^[0-9a-f]{64}$/.test(idHash)) return undefined;
    const out = await this.table.send<GetCommandOutput>('console session get', new GetCommand({ TableName: this.table.tableName, Key: keys.consoleSession(idHash), ConsistentRead: true }));
    const item = out.Item;
    if (!item || typeof item.expiresAtMs !== 'number' || item.expiresAtMs <= this.table.clock.now()) return undefined;
    return { idHash, subject: JSON.parse(String(item.subjectJson)), createdAt: Number(item.createdAt), expiresAt: item.expiresAtMs };
  }

  async deleteSession(idHash: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(idHash)) return false;
    const out = await this.table.send<DeleteCommandOutput>('console session delete', new DeleteCommand({ TableName: this.table.tableName, Key: keys.consoleSession(idHash), ReturnValues: 'ALL_OLD' }));
    return out.Attributes !== undefined;
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    assertAudit(entry);
    const item = compact({
      ...keys.audit(entry.tenantId, entry.at, randomBytes(6).toString('hex')),
      tenantId: entry.tenantId,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome,
      detail: entry.detail,
      expiresAt: expiresAtFor(entry.at, AUDIT_TTL_SECONDS),
    });
    await this.table.send('console audit append', new PutCommand({ TableName: this.table.tableName, Item: item }));
  }

  async listAudit(tenantId: string, options: PageOptions = {}): Promise<Page<AuditEntry>> {
    if (typeof tenantId !== 'string' || !tenantId) throw new Error('tenantId is required');
    const partition = keys.auditPartition(tenantId);
    const now = this.table.clock.now();
    return this.table.partitionPage('console audit list', partition, options, (i) => (isExpired(i.expiresAt as number, now) ? undefined : toEntry(i)), { newestFirst: true });
  }
}

function toEntry(i: Item): AuditEntry {
  const e: AuditEntry = { tenantId: String(i.tenantId), at: Number(i.at), actor: String(i.actor), action: String(i.action), outcome: i.outcome as AuditEntry['outcome'] };
  if (typeof i.target === 'string') e.target = i.target;
  if (typeof i.detail === 'string') e.detail = i.detail;
  return e;
}
