import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('qiye-bridge CLI', () => {
  it('prints help listing the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['config validate', 'tenants list', 'keys generate', 'keys import', 'keys show', 'sso-link', 'sync run', 'runs show', 'mappings import', 'explain', 'simulate callback']) {
      expect(r.out).toContain(name);
    }
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const r = await cli(['config', 'validate', '--nope']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage:');
  });

  it('validates a config file and lists every problem with exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const file = join(dir, 't.json');
    writeFileSync(file, JSON.stringify({ tenants: [{ id: 'x', netease: {} }] }));
    const r = await cli(['config', 'validate', '--file', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('tenants[0].id');
    expect(r.err).toContain('tenants[0].netease.domain');
    expect(r.err).toContain('tenants[0].netease.region');
  });

  it('validates the local sandbox config', async () => {
    const r = await cli(['config', 'validate', '--file', 'config/tenants.local.json']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('sandbox:');
  });
});
