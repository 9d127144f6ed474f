import { mkdtemp, readdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { ConfigError } from '../../shared/errors/app-error';

describe('FileSecretStore', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'qiye-secrets-'));
    file = join(dir, 'nested', 'secrets.json');
  });
  afterEach(() => {
    delete process.env.QIYE_SECRETS_FILE;
  });

  it('returns undefined for a secret that was never stored, without creating the file', async () => {
    const store = new FileSecretStore(file);
    expect(await store.getJson('qiye-bridge/local/acme/oa')).toBeUndefined();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('round-trips values through a file readable by the owner only', async () => {
    const store = new FileSecretStore(file);
    await store.putJson('qiye-bridge/local/acme/oa', { linkSecret: 'correct-horse-battery-staple' });
    await store.putJson('qiye-bridge/local/acme/netease', { privateKeyHex: 'ab'.repeat(40) });

    // A second instance (another process, e.g. the CLI) reads what the first wrote.
    const other = new FileSecretStore(file);
    expect(await other.getJson('qiye-bridge/local/acme/oa')).toEqual({ linkSecret: 'correct-horse-battery-staple' });
    expect(await other.getJson('qiye-bridge/local/acme/netease')).toEqual({ privateKeyHex: 'ab'.repeat(40) });
    expect(await other.names()).toEqual(['qiye-bridge/local/acme/netease', 'qiye-bridge/local/acme/oa']);

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty(['qiye-bridge/local/acme/oa', 'linkSecret']);
    // Written through a temporary file and renamed: nothing is left behind.
    expect(await readdir(join(dir, 'nested'))).toEqual(['secrets.json']);
  });

  it('replaces a secret and tightens a file that had looser permissions', async () => {
    await writeFile(join(dir, 's.json'), JSON.stringify({ a: { v: 1 } }));
    await chmod(join(dir, 's.json'), 0o644);
    const store = new FileSecretStore(join(dir, 's.json'));
    await store.putJson('a', { v: 2 });
    expect(await store.getJson('a')).toEqual({ v: 2 });
    expect((await stat(join(dir, 's.json'))).mode & 0o777).toBe(0o600);
  });

  it('keeps every one of many concurrent writes', async () => {
    const store = new FileSecretStore(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.putJson(`s${i}`, { i })));
    expect(await store.names()).toHaveLength(20);
    expect(await store.getJson('s13')).toEqual({ i: 13 });
  });

  it('reports a corrupt file by its path, never quoting its content', async () => {
    await writeFile(file.replace('nested/', ''), '{"qiye-bridge/local/acme/oa": {"linkSecret": "hunter2-hunter2-hunter2"');
    const store = new FileSecretStore(file.replace('nested/', ''));
    const err = await store.getJson('qiye-bridge/local/acme/oa').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain(file.replace('nested/', ''));
    expect(String((err as Error).message)).not.toContain('hunter2');
    expect((err as Error).cause).toBeUndefined();
  });

  it('takes its path from QIYE_SECRETS_FILE and refuses to work without one', async () => {
    process.env.QIYE_SECRETS_FILE = join(dir, 'env.json');
    expect(new FileSecretStore().path).toBe(join(dir, 'env.json'));
    delete process.env.QIYE_SECRETS_FILE;
    expect(() => new FileSecretStore()).toThrow(/QIYE_SECRETS_FILE/);
  });
});
