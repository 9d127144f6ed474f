/**
 * `qiye-bridge secrets set` on both stores: the local file store end to end (the real
 * `qiye-bridge` binary, value piped on stdin), and Secrets Manager through a node:http stub
 * that speaks the JSON 1.1 protocol of the real client (toolchain.md §3; no emulator exists).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { verifyOaLink } from '../../shared/use-cases/sso/oa-link';
import { tempDataDir } from '../support/env';
import { startSecretsManagerStub, type StubRequest } from '../fixtures/secrets-manager-stub';

const ROOT = resolve(__dirname, '../..');
const LINK_SECRET = 'piped-link-secret-0123456789-abcdef';

/** Runs the real binary with `input` on stdin. */
function bin(args: string[], input: string, env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/qiye-bridge.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, out, err }));
    child.stdin.end(input);
  });
}

async function cli(args: string[], stdin: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => stdin });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('secrets set on the local stage (file store, end to end)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'cli-secrets-')), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
  });

  it('stores a piped value without echoing it, and the stored secret signs links the bridge accepts', async () => {
    const r = await bin(['secrets', 'set', '--tenant', 'sandbox', '--kind', 'oa'], JSON.stringify({ linkSecret: LINK_SECRET }), { QIYE_DATA_DIR: dataDir });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('qiye-bridge/local/sandbox/oa');
    expect(r.out).toContain('linkSecret');
    expect(r.out + r.err).not.toContain(LINK_SECRET);
    const file = join(dataDir, 'secrets.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))['qiye-bridge/local/sandbox/oa']).toEqual({ linkSecret: LINK_SECRET });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    // The CLI's own link (signed with what was stored) verifies with the piped secret.
    const saved = process.env.QIYE_DATA_DIR;
    process.env.QIYE_DATA_DIR = dataDir;
    try {
      const link = await cli(['sso-link', '--tenant', 'sandbox', '--user', 'u1'], '');
      expect(link.code).toBe(0);
      const q = Object.fromEntries(new URL(link.out.trim()).searchParams);
      expect(verifyOaLink({ tenantId: 'sandbox', secret: LINK_SECRET, query: q, now: Number(q.ts), windowSeconds: 300 }).user).toBe('u1');
    } finally {
      if (saved === undefined) delete process.env.QIYE_DATA_DIR;
      else process.env.QIYE_DATA_DIR = saved;
    }
  }, 60_000);

  it('refuses a value that fails the kind\'s schema, stores nothing and never prints the value', async () => {
    const short = 'too-short-9';
    const r = await bin(['secrets', 'set', '--tenant', 'sandbox', '--kind', 'oa'], JSON.stringify({ linkSecret: short }), { QIYE_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.err).toContain('linkSecret');
    expect(r.out + r.err).not.toContain(short);
    expect(existsSync(join(dataDir, 'secrets.json'))).toBe(false);
  }, 60_000);
});

describe('secrets set refusals (in process)', () => {
  const dataDir = tempDataDir('cli-secrets-refuse-', 'all');

  it('refuses bad JSON, unknown fields, a kind the tenant does not use, and a netease value that is not a key', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['--kind', 'oa'], '{"linkSecret": "abcdefghijklmnopq-secret"', /not valid JSON/],
      [['--kind', 'oa'], JSON.stringify({ linkSecret: 'abcdefghijklmnopq-secret', extra: 1 }), /extra/],
      [['--kind', 'oa'], '', /No value/],
      // The EKP sandbox has a DingTalk channel (issue 11), but no WeCom.
      [['--kind', 'wecom'], JSON.stringify({ appSecret: 'x' }), /no "wecom" section/],
      [['--kind', 'vault'], '{}', /--kind must be one of/],
      [['--kind', 'netease'], JSON.stringify({ privateKeyHex: 'ab'.repeat(64) }), /not a valid RSA private key|not an RSA private key/],
      [['--kind', 'ekp'], JSON.stringify({}), /password.*apiKey/],
    ];
    for (const [args, stdin, why] of cases) {
      const r = await cli(['secrets', 'set', '--tenant', 'sandbox', ...args], stdin);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(why);
      if (stdin.length > 4) expect(r.err).not.toContain('abcdefghijklmnopq-secret');
    }
    expect(existsSync(join(dataDir(), 'secrets.json'))).toBe(false);
  });
});

describe('secrets set on a deployed stage (Secrets Manager PutSecretValue, over HTTP)', () => {
  let stub: Awaited<ReturnType<typeof startSecretsManagerStub>>;
  const calls: StubRequest[] = [];
  const ENV_KEYS = ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE', 'AWS_SESSION_TOKEN', 'QIYE_TENANTS_FILE'] as const;
  const savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};

  beforeAll(async () => {
    stub = await startSecretsManagerStub((req) => {
      calls.push(req);
      return req.op === 'PutSecretValue' ? [200, { Name: req.input.SecretId, VersionId: 'v2' }] : [400, { __type: 'InvalidRequestException', message: `unexpected ${req.op}` }];
    });
    for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stub.endpoint,
      AWS_REGION: 'cn-north-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      QIYE_TENANTS_FILE: join(ROOT, 'test/infra/fixtures/tenants.infra.json'),
    });
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
  });
  afterAll(async () => {
    for (const k of ENV_KEYS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
    await stub.close();
  });
  beforeEach(() => {
    calls.length = 0;
  });

  it('calls PutSecretValue on the stage\'s secret name with the checked value, and prints only names', async () => {
    const value = { appSecret: 'dt-app-secret-value', callbackToken: 'tok-value', callbackAesKey: 'a'.repeat(43) };
    const r = await cli(['secrets', 'set', '--tenant', 'globex-cn', '--kind', 'dingtalk', '--stage', 'prod'], JSON.stringify(value));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.op)).toEqual(['PutSecretValue']);
    expect(calls[0]!.input.SecretId).toBe('qiye-bridge/prod/globex-cn/dingtalk');
    expect(JSON.parse(calls[0]!.input.SecretString!)).toEqual(value);
    expect(r.out).toContain('qiye-bridge/prod/globex-cn/dingtalk');
    for (const v of Object.values(value)) expect(r.out).not.toContain(v);
  });

  it('stores an extra channel\'s secret (--channel) under its own name, and refuses a channel of another vendor or none', async () => {
    const value = { appSecret: 'hk-app-secret-value', callbackToken: 'hk-token', callbackAesKey: 'b'.repeat(43) };
    const r = await cli(['secrets', 'set', '--tenant', 'globex-cn', '--kind', 'dingtalk', '--channel', 'globex-hk', '--stage', 'prod'], JSON.stringify(value));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.input.SecretId)).toEqual(['qiye-bridge/prod/globex-cn/dingtalk/globex-hk']);
    expect(JSON.parse(calls[0]!.input.SecretString!)).toEqual(value);
    for (const v of Object.values(value)) expect(r.out).not.toContain(v);
    calls.length = 0;
    // globex-hk is a DingTalk org: no WeCom secret; no such channel at all.
    const wrongVendor = await cli(['secrets', 'set', '--tenant', 'globex-cn', '--kind', 'wecom', '--channel', 'globex-hk', '--stage', 'prod'], JSON.stringify({ appSecret: 'x' }));
    expect(wrongVendor.code).toBe(1);
    expect(wrongVendor.err).toMatch(/no wecom channel "globex-hk".*dingtalk --channel globex-hk/);
    const unknown = await cli(['secrets', 'set', '--tenant', 'globex-cn', '--kind', 'dingtalk', '--channel', 'nope', '--stage', 'prod'], JSON.stringify(value));
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no dingtalk channel "nope"/);
    expect(calls).toEqual([]);
  });

  it('calls nothing when the value is invalid', async () => {
    const r = await cli(['secrets', 'set', '--tenant', 'globex-cn', '--kind', 'dingtalk', '--stage', 'prod'], JSON.stringify({ appSecret: 'x', callbackAesKey: 'too-short' }));
    expect(r.code).toBe(1);
    expect(r.err).toContain('callbackAesKey');
    expect(calls).toEqual([]);
  });
});
