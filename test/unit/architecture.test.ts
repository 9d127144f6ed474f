/**
 * Keeps the dependency directions honest (STYLE.md): deployed code never reaches into the
 * local stack, the tests or the infrastructure; the domain is pure; vendor adapters do not
 * import each other; handlers do not import other handlers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...files(rel));
    else if (rel.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Repository-relative targets of every relative import of a file. */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

function violations(fromDir: string, forbidden: (target: string, file: string) => boolean): string[] {
  return files(fromDir).flatMap((f) => imports(f).filter((t) => forbidden(t, f)).map((t) => `${f} -> ${t}`));
}

const top = (p: string) => p.split('/')[0]!;

describe('dependency directions', () => {
  it('deployed code (functions, shared) never imports local, test, bench, cli or infra', () => {
    const bad = [...violations('functions', (t) => ['local', 'test', 'bench', 'cli', 'infra'].includes(top(t))), ...violations('shared', (t) => top(t) !== 'shared')];
    expect(bad).toEqual([]);
  });

  it('the domain imports nothing outside shared/domain', () => {
    expect(violations('shared/domain', (t) => !t.startsWith('shared/domain'))).toEqual([]);
  });

  it('ports import only the domain, contracts and other ports', () => {
    expect(violations('shared/ports', (t) => !/^shared\/(ports|domain|contracts|errors|config)\//.test(t))).toEqual([]);
  });

  it('use cases never import adapters or the wiring', () => {
    expect(violations('shared/use-cases', (t) => /^shared\/(adapters|wiring|runtime)\//.test(t))).toEqual([]);
  });

  it('adapters never import use cases or the wiring', () => {
    expect(violations('shared/adapters', (t) => /^shared\/(use-cases|wiring|runtime)\//.test(t))).toEqual([]);
  });

  it('handlers reach adapters only through the wiring', () => {
    expect(violations('functions', (t) => t.startsWith('shared/adapters/'))).toEqual([]);
  });

  it('vendor adapters do not import each other', () => {
    const vendors = ['netease', 'dingtalk', 'wecom', 'ekp', 'cas'];
    const bad = vendors.flatMap((v) =>
      violations(`shared/adapters/${v}`, (t) => {
        const m = /^shared\/adapters\/([^/]+)\//.exec(t);
        return !!m && m[1] !== v && vendors.includes(m[1]!);
      }),
    );
    expect(bad).toEqual([]);
  });

  it('a handler never imports another handler', () => {
    const bad = violations('functions', (t, f) => top(t) === 'functions' && t.split('/').slice(0, 3).join('/') !== f.split('/').slice(0, 3).join('/'));
    expect(bad).toEqual([]);
  });

  it('no import cycles (type imports included) in deployed code and the CLI', () => {
    const resolveTs = (t: string) => [`${t}.ts`, `${t}/index.ts`].find((c) => { try { return statSync(join(ROOT, c)).isFile(); } catch { return false; } });
    const graph = new Map(['functions', 'shared', 'cli'].flatMap(files).map((f) => [f, imports(f).map(resolveTs).filter((t): t is string => !!t)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]): void => {
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...path.slice(path.indexOf(t)), t].join(' -> '));
        else if (!state.has(t)) visit(t, [...path, t]);
      }
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f, [f]);
    expect(cycles).toEqual([]);
  });

  it('the local stack does not import tests', () => {
    expect(violations('local', (t) => top(t) === 'test')).toEqual([]);
  });
});
