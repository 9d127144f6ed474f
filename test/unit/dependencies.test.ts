/**
 * Every package in package.json earns its place (dependency-cruiser checks the other direction:
 * no import of an undeclared package, no devDependency in shipped code). A dependency is used when
 * shipped code (functions/, shared/) imports it, or it is listed below with the reason it is needed
 * anyway; a devDependency when any of our files imports it, or it is a tool a script runs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Runtime dependencies that shipped code does not import, and why they are runtime dependencies. */
const RUNTIME_NOT_IMPORTED_BY_SHIPPED_CODE: Record<string, { reason: string; importedBy: string }> = {
  'aws-cdk-lib': { reason: 'the CDK app (infra/) synthesizes the stacks; a CDK app keeps it in dependencies', importedBy: 'infra' },
  constructs: { reason: 'peer of aws-cdk-lib, imported by the CDK constructs in infra/', importedBy: 'infra' },
};

/**
 * Runtime dependencies pinned only so that a package shipped code imports resolves to the
 * version we tested (toolchain.md: Powertools 2.35.0; logger's peer jmespath@2.36.0 is not
 * published). Each must be a dependency or peer of the package named, which must be imported.
 */
const PINNED_FOR: Record<string, string> = {
  '@aws-lambda-powertools/commons': '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/jmespath': '@aws-lambda-powertools/logger',
};

/** devDependencies that no file imports: each is a tool, and the check below finds it in use. */
const TOOLS: Record<string, (scripts: string) => boolean> = {
  typescript: (s) => /\btsc\b/.test(s), // npm run typecheck
  'dependency-cruiser': (s) => /\bdepcruise\b/.test(s), // npm run depcruise
  'aws-cdk': (s) => /\bcdk synth\b/.test(s), // npm run synth
  vitest: (s) => /\bvitest\b/.test(s), // npm test (also imported by the tests)
  // NodejsFunction bundles each handler with the local esbuild (no Docker): used when infra bundles
  esbuild: () => importsOf('infra').has('aws-cdk-lib'),
};

function files(dir: string): string[] {
  const full = join(ROOT, dir);
  if (statSync(full).isFile()) return [dir];
  return readdirSync(full).flatMap((name) => files(join(dir, name))).filter((f) => /\.(ts|js|mjs|cjs)$/.test(f));
}

/** Package names (`@scope/name` or `name`) imported, statically or dynamically, by files under `dirs`. */
function importsOf(...dirs: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of dirs.flatMap(files)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return names;
}

const ALL = ['functions', 'shared', 'infra', 'local', 'cli', 'bench', 'test', 'bin', 'vitest.config.ts'];

describe('package.json dependencies', () => {
  it('every runtime dependency is imported by shipped code, or listed with its reason and importer', () => {
    const shipped = importsOf('functions', 'shared');
    const unused = Object.keys(pkg.dependencies).filter((name) => {
      if (shipped.has(name)) return false;
      const pinnedFor = PINNED_FOR[name];
      if (pinnedFor) {
        const meta = JSON.parse(readFileSync(join(ROOT, 'node_modules', pinnedFor, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
        return !(shipped.has(pinnedFor) && (meta.dependencies?.[name] ?? meta.peerDependencies?.[name]) === pkg.dependencies[name]);
      }
      const listed = RUNTIME_NOT_IMPORTED_BY_SHIPPED_CODE[name];
      return !listed || !importsOf(listed.importedBy).has(name);
    });
    expect(unused).toEqual([]);
  });

  it('every devDependency is imported somewhere, typed for something imported, or a tool a script runs', () => {
    const used = importsOf(...ALL);
    const scripts = Object.values(pkg.scripts).join('\n');
    const unused = Object.keys(pkg.devDependencies).filter((name) => {
      if (used.has(name)) return false;
      // @types/x is used when x is imported (or, for node, when built-ins are)
      const typed = /^@types\/(.+)$/.exec(name)?.[1];
      if (typed) return !(typed === 'node' || used.has(typed.includes('__') ? `@${typed.replace('__', '/')}` : typed));
      return !TOOLS[name]?.(scripts);
    });
    expect(unused).toEqual([]);
  });

  it('the allow-lists name only packages that are declared', () => {
    for (const name of Object.keys(RUNTIME_NOT_IMPORTED_BY_SHIPPED_CODE)) expect(pkg.dependencies).toHaveProperty([name]);
    for (const name of Object.keys(PINNED_FOR)) expect(pkg.dependencies).toHaveProperty([name]);
    for (const name of Object.keys(TOOLS)) expect(pkg.devDependencies).toHaveProperty([name]);
  });
});
