import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { verifyOaLink } from '../../shared/use-cases/sso/oa-link';
import { tempDataDir } from '../support/env';

const dataDir = tempDataDir('cli-keys-', 'each');

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function openssl(args: string[], input?: Buffer): string {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}


describe('qiye-bridge keys', () => {
  it('generates a key whose public hex DER and stored private key both parse with openssl', async () => {
    const r = await cli(['keys', 'generate', '--tenant', 'sandbox']);
    expect(r.code).toBe(0);
    const hex = r.out.split('\n').find((l) => /^[0-9a-f]{200,}$/.test(l))!;
    expect(hex.startsWith('30819f300d06092a864886f70d010101050003818d00308189028181')).toBe(true);
    const pubText = openssl(['pkey', '-pubin', '-inform', 'DER', '-noout', '-text'], Buffer.from(hex, 'hex'));
    expect(pubText).toMatch(/Public-Key: \(1024 bit\)/);
    const stored = JSON.parse(readFileSync(join(dataDir(), 'secrets.json'), 'utf8'))['qiye-bridge/local/sandbox/netease'];
    expect(r.out).not.toContain(stored.privateKeyHex);
    expect(openssl(['rsa', '-inform', 'DER', '-check', '-noout'], Buffer.from(stored.privateKeyHex, 'hex'))).toMatch(/RSA key ok/);
    // keys show prints the same public key, never the private one.
    const shown = await cli(['keys', 'show', '--tenant', 'sandbox']);
    expect(shown.out).toContain(hex);
    expect(shown.out).not.toContain(stored.privateKeyHex);
  });

  it('imports an openssl-generated PKCS#1 PEM key and prints the public key openssl derives', async () => {
    const pem = join(dataDir(), 'k.pem');
    openssl(['genrsa', '-traditional', '-out', pem, '1024']);
    const expected = openssl(['rsa', '-in', pem, '-pubout', '-outform', 'DER'], undefined);
    const expectedHex = execFileSync('openssl', ['rsa', '-in', pem, '-pubout', '-outform', 'DER'], { stdio: ['pipe', 'pipe', 'pipe'] }).toString('hex');
    expect(expected.length).toBeGreaterThan(0);
    const r = await cli(['keys', 'import', '--tenant', 'sandbox', '--file', pem]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(expectedHex);
  });

  it('inspects a key file for rotation: prints its public key and stores nothing', async () => {
    const pem = join(dataDir(), 'next.pem');
    openssl(['genrsa', '-out', pem, '1024']);
    const expectedHex = execFileSync('openssl', ['rsa', '-in', pem, '-pubout', '-outform', 'DER'], { stdio: ['pipe', 'pipe', 'pipe'] }).toString('hex');
    const r = await cli(['keys', 'inspect', '--tenant', 'sandbox', '--file', pem]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(expectedHex);
    expect(() => readFileSync(join(dataDir(), 'secrets.json'))).toThrow();
  });

  it('refuses a file that is not a key and stores nothing', async () => {
    const bad = join(dataDir(), 'bad.pem');
    writeFileSync(bad, 'not a key at all');
    const r = await cli(['keys', 'import', '--tenant', 'sandbox', '--file', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/KEY\./);
    expect(r.err).not.toContain('not a key at all');
    expect(() => readFileSync(join(dataDir(), 'secrets.json'))).toThrow();
  });

  it('prints a signed OA link that verifies with the tenant secret', async () => {
    writeFileSync(join(dataDir(), 'secrets.json'), JSON.stringify({ 'qiye-bridge/local/sandbox/oa': { linkSecret: 'a-local-link-secret-of-32-chars!' } }), { mode: 0o600 });
    const r = await cli(['sso-link', '--tenant', 'sandbox', '--user', 'ekp-42', '--module', 'mbox.ListModule']);
    expect(r.code).toBe(0);
    const url = new URL(r.out.trim());
    expect(url.origin).toBe('http://127.0.0.1:3001');
    expect(url.pathname).toBe('/sso/sandbox');
    const link = verifyOaLink({ tenantId: 'sandbox', secret: 'a-local-link-secret-of-32-chars!', query: Object.fromEntries(url.searchParams), now: Date.now(), windowSeconds: 300 });
    expect(link).toMatchObject({ user: 'ekp-42', module: 'mbox.ListModule' });
  });
});
