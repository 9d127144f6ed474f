/**
 * The contract both ConsoleStore implementations pass: the in-memory twin
 * (test/unit/console-store.test.ts) and the DynamoDB adapter against dynalite
 * (test/integration/dynamo-console-store.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors/app-error';
import type { fixedClock } from '../../shared/ports/clock';
import type { ConsoleStore } from '../../shared/ports/console-store';

type TestClock = ReturnType<typeof fixedClock>;
const hash = () => createHash('sha256').update(randomBytes(16)).digest('hex');
const tenant = () => `t-${randomBytes(4).toString('hex')}`;

export function consoleStoreContract(name: string, make: () => { store: ConsoleStore; clock: TestClock }): void {
  describe(`${name}: ConsoleStore contract`, () => {
    it('a stored session reads back until it expires, then reads as absent', async () => {
      const { store, clock } = make();
      const idHash = hash();
      const now = clock.now();
      await store.putSession({ idHash, subject: { kind: 'tenant', tenantId: 'acme', via: 'dingtalk', userId: 'u1' }, createdAt: now, expiresAt: now + 60_000 });
      expect((await store.getSession(idHash))?.subject).toEqual({ kind: 'tenant', tenantId: 'acme', via: 'dingtalk', userId: 'u1' });
      clock.advance(60_000);
      expect(await store.getSession(idHash)).toBeUndefined();
    });

    it('a deleted session is gone (sign-out revokes it server-side)', async () => {
      const { store, clock } = make();
      const idHash = hash();
      await store.putSession({ idHash, subject: { kind: 'breakglass', label: 'ops' }, createdAt: clock.now(), expiresAt: clock.now() + 60_000 });
      expect(await store.deleteSession(idHash)).toBe(true);
      expect(await store.getSession(idHash)).toBeUndefined();
      expect(await store.deleteSession(idHash)).toBe(false);
    });

    it('refuses a malformed session and writes nothing', async () => {
      const { store, clock } = make();
      await expect(store.putSession({ idHash: 'nothex', subject: { kind: 'breakglass', label: 'ops' }, createdAt: clock.now(), expiresAt: clock.now() + 1 })).rejects.toBeInstanceOf(ValidationError);
      const idHash = hash();
      await expect(store.putSession({ idHash, subject: { kind: 'breakglass', label: 'has space' }, createdAt: clock.now(), expiresAt: clock.now() + 1 })).rejects.toBeInstanceOf(ValidationError);
      expect(await store.getSession(idHash)).toBeUndefined();
    });

    it('lists a tenant\'s audit entries newest first, page by page, and no other tenant\'s', async () => {
      const { store, clock } = make();
      const t = tenant();
      for (let i = 0; i < 5; i++) {
        await store.appendAudit({ tenantId: t, at: clock.now() + i, actor: 'dingtalk:u1', action: 'run.approve', target: `run-${i}`, outcome: 'ok' });
      }
      await store.appendAudit({ tenantId: tenant(), at: clock.now(), actor: 'x', action: 'signin', outcome: 'ok' });
      const first = await store.listAudit(t, { limit: 3 });
      expect(first.items.map((e) => e.target)).toEqual(['run-4', 'run-3', 'run-2']);
      expect(first.cursor).toBeDefined();
      const second = await store.listAudit(t, { limit: 3, cursor: first.cursor! });
      expect(second.items.map((e) => e.target)).toEqual(['run-1', 'run-0']);
      expect(second.cursor).toBeUndefined();
    });

    it('refuses an audit entry without an actor or with an unknown outcome', async () => {
      const { store, clock } = make();
      const t = tenant();
      await expect(store.appendAudit({ tenantId: t, at: clock.now(), actor: '', action: 'signin', outcome: 'ok' })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.appendAudit({ tenantId: t, at: clock.now(), actor: 'a', action: 'signin', outcome: 'maybe' as 'ok' })).rejects.toBeInstanceOf(ValidationError);
      expect((await store.listAudit(t)).items).toEqual([]);
    });
  });
}
