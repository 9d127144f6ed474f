/**
 * Tenant config for mailbox policies, display order and leaver forwarding
 * (shared/config/mailbox-policies.schema.ts): defaults that change nothing, and a clear
 * error with its path for every bad value.
 */
import { describe, expect, it } from 'vitest';
import { parseTenantsConfig } from '../../shared/config/load-config';
import { ConfigError } from '../../shared/errors/app-error';

const tenant = (sync: Record<string, unknown>) => ({
  tenants: [{ id: 'acme', netease: { domain: 'acme.com', product: 'acme_com', region: 'hz' }, ekp: { baseUrl: 'https://oa.acme.com/ekp', auth: { type: 'none' } }, sync }],
});

function problemsOf(sync: Record<string, unknown>): Array<{ path: string; reason: string }> {
  try {
    parseTenantsConfig(tenant(sync), 'mem.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => ({ path: p.path, reason: p.reason }));
  }
  throw new Error('expected a ConfigError');
}

describe('mailbox policy config', () => {
  it('is off by default', () => {
    const s = parseTenantsConfig(tenant({}), 'mem.json').tenants[0]!.sync;
    expect({ policies: s.policies, displayOrder: s.displayOrder, leavers: s.leavers }).toEqual({ policies: [], displayOrder: false, leavers: {} });
  });

  it('accepts department, attribute and catch-all rules and forwarding to the manager with a fallback', () => {
    const s = parseTenantsConfig(
      tenant({
        policies: [
          { name: 'sales', match: { department: '销售部', recursive: true }, set: { quota: 10240, addrVisible: 1 } },
          { match: { attribute: 'title', equals: ['经理'] }, set: { addrRight: 0 } },
          { match: { all: true }, set: { quota: 5120 } },
        ],
        displayOrder: true,
        leavers: { forwardTo: 'manager', fallback: 'it-desk@acme.com' },
      }),
      'mem.json',
    ).tenants[0]!.sync;
    expect(s.policies[0]!.match).toEqual({ department: '销售部', recursive: true });
    expect(s.leavers).toEqual({ forwardTo: 'manager', fallback: 'it-desk@acme.com' });
  });

  it('names every bad field with its path', () => {
    const problems = problemsOf({
      policies: [
        { match: { department: '' }, set: { quota: 1 } },
        { match: { attribute: 'salary', equals: 'x' }, set: { quota: 1 } },
        { match: { all: true }, set: {} },
        { name: 'a', match: { all: true }, set: { addrVisible: 2 } },
        { name: 'b', match: { all: true }, set: { quota: -5 } },
      ],
      leavers: { forwardTo: 'my boss', fallback: 'x@acme.com' },
    });
    const at = (path: string) => problems.filter((p) => p.path.includes(path)).map((p) => p.reason).join(' | ');
    expect(at('policies[0].match') || at('policies.0.match')).toMatch(/department|must be/);
    expect(at('policies[1].match') || at('policies.1.match')).toMatch(/must be/);
    expect(at('policies[2].set') || at('policies.2.set')).toContain('at least one of quota');
    expect(at('policies[3].set.addrVisible') || at('policies.3.set.addrVisible')).toContain('0 or 1');
    expect(at('policies[4].set.quota') || at('policies.4.set.quota')).toMatch(/>0|greater|positive|too small/i);
    expect(at('leavers.forwardTo')).toContain('"manager" or a mail address');
  });

  it('refuses two rules with one name (the plan and explain name rules)', () => {
    const problems = problemsOf({ policies: [{ name: 'a', match: { all: true }, set: { quota: 1 } }, { name: 'a', match: { all: true }, set: { quota: 2 } }] });
    expect(problems.map((p) => p.reason).join()).toContain('duplicates policies[0].name "a"');
  });

  it('refuses a fallback without forwarding to the manager', () => {
    expect(problemsOf({ leavers: { forwardTo: 'archive@acme.com', fallback: 'x@acme.com' } }).map((p) => p.reason)).toContain('is only used with forwardTo "manager"');
  });
});
