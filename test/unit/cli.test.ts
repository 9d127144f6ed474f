import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { commands } from '../../cli/commands/index';
import { optionsOf, tenantCommand } from '../../cli/commands/command';

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

  it('answers --help on every subcommand with its own usage, not the general help', async () => {
    for (const c of commands) {
      for (const args of [[...c.name.split(' '), '--help'], ['help', ...c.name.split(' ')]]) {
        const r = await cli(args);
        expect(r.code, args.join(' ')).toBe(0);
        expect(r.out, args.join(' ')).toContain(`Usage: ${c.usage}`);
        expect(r.out, args.join(' ')).not.toContain('Commands:');
      }
    }
  });

  it('answers --help on a command group (keys, sync, runs, secrets...) with the usage of each of its commands', async () => {
    const groups = [...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];
    expect(groups).toEqual(expect.arrayContaining(['keys', 'secrets', 'sync', 'runs', 'mappings', 'config']));
    for (const g of groups) {
      const r = await cli([g, '--help']);
      expect(r.code, g).toBe(0);
      expect(r.out, g).not.toContain('Commands:');
      for (const c of commands.filter((x) => x.name.startsWith(`${g} `))) expect(r.out, g).toContain(c.usage.split('\n')[0]!);
    }
    // Without a subcommand: exit 2 and the group's commands.
    const bare = await cli(['keys']);
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('keys generate --tenant');
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

describe('tenant commands (cli/commands/command.ts)', () => {
  it('declares the options its usage names: a value word makes a string option, a lone flag a boolean', () => {
    expect(optionsOf('[--note <text>] [--wait] [--json | --csv] [--bits 1024|2048] --file links.csv <run-id> [--mid <id> | --module <module>]')).toEqual({
      note: { type: 'string' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      bits: { type: 'string' },
      file: { type: 'string' },
      mid: { type: 'string' },
      module: { type: 'string' },
    });
  });

  it('writes the usage line and refuses a missing --run before running anything', async () => {
    let ran = false;
    const cmd = tenantCommand({ name: 'demo cmd', summary: 's', args: '[--wait]', takesRun: true, notes: ['a note'], run: async () => void (ran = true) });
    expect(cmd.usage).toBe('npx qiye-bridge demo cmd --tenant <id> --run <run-id> [--wait] [--stage <stage>]\n  a note');
    expect(Object.keys(cmd.options ?? {}).sort()).toEqual(['run', 'tenant', 'wait']);
    const ctx = { tenant: (id: string | undefined) => ({ id }) } as never;
    await expect(cmd.run({ values: { tenant: 't1' }, positionals: [] }, ctx)).rejects.toThrow('--run <run-id> is required.');
    expect(ran).toBe(false);
  });
});

describe('tenant commands with a required argument', () => {
  it('refuses a missing argument naming what it is and the usage, before running anything', async () => {
    let ran = false;
    const cmd = tenantCommand({ name: 'demo show', summary: 's', args: '<thing-id> [--json]', requires: 'thing id', run: async () => void (ran = true) });
    expect(cmd.positionals).toBe(1);
    const ctx = { tenant: (id: string | undefined) => ({ id }) } as never;
    await expect(cmd.run({ values: { tenant: 't1' }, positionals: [] }, ctx)).rejects.toThrow('The thing id is required: demo show --tenant <id> <thing-id>.');
    expect(ran).toBe(false);
    await cmd.run({ values: { tenant: 't1' }, positionals: ['x1'] }, ctx);
    expect(ran).toBe(true);
  });
});
