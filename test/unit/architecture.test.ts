/**
 * Keeps the dependency directions honest (STYLE.md). The rules live in .dependency-cruiser.cjs and
 * `npm test` runs them over the tree (`npm run depcruise`). These tests prove the rules can fail:
 * each planted wrong import in a throw-away tree must be reported under the rule that forbids it,
 * and the temporary allow-list of known violations must only name edges that really exist.
 * It also holds the size rule of issue 8: no function in shared/ over MAX_FUNCTION_LINES lines.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface KnownViolation {
  rule: string;
  from: string;
  to: string;
}
interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as {
  KNOWN_VIOLATIONS: KnownViolation[];
  build(known: KnownViolation[]): unknown;
};

/** Runs the depcruise CLI in `cwd` with a config file that builds the rules with `known` tolerated. */
function cruise(cwd: string, targets: string[], known: KnownViolation[], outputType = 'json'): { status: number | null; violations: Violation[]; stderr: string } {
  const cfg = join(cwd, '.depcruise-under-test.cjs');
  writeFileSync(cfg, `module.exports = require(${JSON.stringify(join(ROOT, '.dependency-cruiser.cjs'))}).build(${JSON.stringify(known)});\n`);
  try {
    const run = spawnSync(process.execPath, [DEPCRUISE, '--config', cfg, '--output-type', outputType, ...targets], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const out = outputType === 'json' && run.stdout ? (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }) : { summary: { violations: [] } };
    return { status: run.status, violations: out.summary.violations, stderr: run.stderr };
  } finally {
    rmSync(cfg, { force: true });
  }
}

/**
 * A small tree laid out like the repository, each file a planted wrong import (or its target).
 * It sits in a git-ignored folder inside the repository so packages resolve from node_modules.
 */
const PLANTED: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'planted', type: 'module', dependencies: { zod: '*' }, devDependencies: { vitest: '*' } }),
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'preserve', moduleResolution: 'bundler', strict: true } }),
  'shared/adapters/netease/netease.client.ts': "import type { Port } from '../../ports/port';\nexport const client: Port = { name: 'netease' };\n",
  'shared/adapters/dingtalk/dingtalk.client.ts': "import { client } from '../netease/netease.client';\nexport const ding = client;\n",
  'shared/adapters/sources.ts': "import { run } from '../use-cases/run';\nexport const sources = run;\n",
  'shared/ports/port.ts': "import { helper } from '../lib/helper';\nexport interface Port { name: string }\nexport const p = helper;\n",
  'shared/lib/helper.ts': "import { x } from '../../functions/http/unread/handler';\nexport const helper = x.length;\n",
  'shared/use-cases/run.ts': "import { client } from '../adapters/netease/netease.client';\nexport const run = () => client;\n",
  // Counts go through the metrics port (shared/ports/metrics.ts), never the process's Powertools metrics.
  'shared/observability/metrics.ts': 'export const metrics = () => ({ count: (name: string) => name });\n',
  'shared/use-cases/count.ts': "import { metrics } from '../observability/metrics';\nexport const count = () => metrics().count('SyncRuns');\n",
  'shared/domain/a.ts': "import type { B } from './b';\nimport { z } from 'zod';\nexport interface A { b?: B }\nexport const s = z.string();\n",
  'shared/domain/b.ts': "import type { A } from './a';\nexport interface B { a?: A }\n",
  'shared/errors/app-error.ts': "import { expect } from 'vitest';\nexport const e = expect;\n",
  'functions/http/sso/handler.ts': "import { run } from '../../../shared/use-cases/run';\nimport { x } from '../unread/handler';\nimport { client } from '../../../shared/adapters/netease/netease.client';\nimport { fixture } from '../../../test/fixture';\nexport const handler = [run, x, client, fixture];\n",
  'functions/http/unread/handler.ts': "import { sources } from '../../../shared/adapters/sources';\nimport { ding } from '../../../shared/adapters/dingtalk/dingtalk.client';\nimport { e } from '../../../shared/errors/app-error';\nimport { s } from '../../../shared/domain/a';\nimport { p } from '../../../shared/ports/port';\nexport const x = [sources, ding, e, s, p];\n",
  'shared/config/load-config.ts': "import { run } from '../use-cases/run';\nexport const load = run;\n",
  'shared/http/edge.ts': "import { client } from '../adapters/netease/netease.client';\nexport const edge = client;\n",
  'shared/runtime/runtime.ts': "import { ddb } from '../adapters/aws/dynamodb-client';\nimport { client } from '../adapters/netease/netease.client';\nimport { edge } from '../http/edge';\nexport const rt = [ddb, client, edge];\n",
  'shared/adapters/aws/dynamodb-client.ts': 'export const ddb = 1;\n',
  'test/fixture.ts': 'export const fixture = 1;\n',
  'local/orphan.ts': 'export const nobodyImportsMe = 1;\n',
  'local/unlisted.ts': "import picomatch from 'picomatch';\nimport { fixture } from '../test/fixture';\nexport const u = [picomatch, fixture];\nimport { x } from '../functions/http/unread/handler';\nexport const y = x;\n",
  'local/missing.ts': "import { nothing } from './does-not-exist';\nimport { y } from './unlisted';\nexport const m = [nothing, y];\n",
};

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  let dir = '';
  let planted: ReturnType<typeof cruise>;

  beforeAll(() => {
    mkdirSync(join(ROOT, '.data'), { recursive: true });
    dir = mkdtempSync(join(ROOT, '.data', 'depcruise-planted-'));
    for (const [file, text] of Object.entries(PLANTED)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    planted = cruise(dir, ['shared', 'functions', 'test', 'local'], []);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `from -> to`, with a package's resolved file shown as the package name. */
  const reported = (rule: string) =>
    planted.violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} -> ${/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(v.to)?.[1] ?? v.to}`);

  it('fails (non-zero exit, as `npm run depcruise` runs it) on a tree with planted wrong imports', () => {
    expect(planted.stderr).not.toMatch(/ERROR/);
    expect(planted.violations.length).toBeGreaterThan(0);
    const asNpmTestRunsIt = cruise(dir, ['shared', 'functions', 'test', 'local'], [], 'err');
    expect(asNpmTestRunsIt.status).not.toBe(0);
  });

  it.each([
    ['use-cases-only-inward', 'shared/use-cases/run.ts -> shared/adapters/netease/netease.client.ts'],
    ['use-cases-only-inward', 'shared/use-cases/count.ts -> shared/observability/metrics.ts'],
    ['vendor-adapters-independent', 'shared/adapters/dingtalk/dingtalk.client.ts -> shared/adapters/netease/netease.client.ts'],
    ['adapters-not-to-use-cases', 'shared/adapters/sources.ts -> shared/use-cases/run.ts'],
    ['ports-only-inward', 'shared/ports/port.ts -> shared/lib/helper.ts'],
    ['domain-is-pure', 'shared/domain/a.ts -> zod'],
    ['functions-not-to-adapters', 'functions/http/sso/handler.ts -> shared/adapters/netease/netease.client.ts'],
    ['functions-not-to-adapters', 'functions/http/unread/handler.ts -> shared/adapters/sources.ts'],
    ['handler-not-to-other-handler', 'functions/http/sso/handler.ts -> functions/http/unread/handler.ts'],
    ['deployed-not-to-dev-trees', 'functions/http/sso/handler.ts -> test/fixture.ts'],
    ['not-to-dev-dep', 'shared/errors/app-error.ts -> vitest'],
    ['core-libs-not-outward', 'shared/config/load-config.ts -> shared/use-cases/run.ts'],
    ['shared-not-to-functions', 'shared/lib/helper.ts -> functions/http/unread/handler.ts'],
    ['edge-helpers-not-to-adapters', 'shared/http/edge.ts -> shared/adapters/netease/netease.client.ts'],
    ['runtime-only-process-clients', 'shared/runtime/runtime.ts -> shared/adapters/netease/netease.client.ts'],
    ['local-not-to-tests', 'local/unlisted.ts -> test/fixture.ts'],
    ['no-non-package-json', 'local/unlisted.ts -> picomatch'],
    ['not-to-unresolvable', 'local/missing.ts -> ./does-not-exist'],
  ])('reports %s for %s', (rule, edge) => {
    expect(reported(rule)).toContain(edge);
  });

  it('lets shared/runtime import the process-wide clients it builds (runtime-only-process-clients)', () => {
    const fromRuntime = planted.violations.filter((v) => v.from === 'shared/runtime/runtime.ts').map((v) => `${v.rule.name}: ${v.to}`);
    expect(fromRuntime).toEqual(['runtime-only-process-clients: shared/adapters/netease/netease.client.ts']);
  });

  it('reports an import cycle made only of type imports (no-circular)', () => {
    expect(reported('no-circular')).toEqual(expect.arrayContaining(['shared/domain/a.ts -> shared/domain/b.ts']));
  });

  it('reports a module nothing imports and that imports nothing (no-orphans)', () => {
    expect(reported('no-orphans')).toEqual(['local/orphan.ts -> local/orphan.ts']);
  });

  it('tolerates an edge only while it is listed as a known violation', () => {
    const known = [{ rule: 'use-cases-only-inward', from: '^shared/use-cases/run\\.ts$', to: '^shared/adapters/netease/netease\\.client\\.ts$' }];
    const tolerated = cruise(dir, ['shared', 'functions', 'test', 'local'], known).violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    expect(tolerated).not.toContain('use-cases-only-inward: shared/use-cases/run.ts -> shared/adapters/netease/netease.client.ts');
    // the same file's other wrong imports are still reported
    expect(tolerated).toContain('functions-not-to-adapters: functions/http/sso/handler.ts -> shared/adapters/netease/netease.client.ts');
  });
});

describe('the known-violations allow-list', () => {
  it('names only edges that still break a rule, and covers every violation in the tree', () => {
    const { violations } = cruise(ROOT, ['infra', 'functions', 'shared', 'local', 'cli', 'bench', 'test', 'bin', 'vitest.config.ts'], []);
    const matches = (k: KnownViolation, v: Violation) =>
      k.rule === v.rule.name && new RegExp(k.from).test(v.from) && (new RegExp(k.to).test(v.to) || (v.cycle ?? []).some((c) => new RegExp(k.to).test(c.name)));
    const stale = config.KNOWN_VIOLATIONS.filter((k) => !violations.some((v) => matches(k, v)));
    const unlisted = violations.filter((v) => !config.KNOWN_VIOLATIONS.some((k) => matches(k, v))).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    expect(stale).toEqual([]);
    expect(unlisted).toEqual([]);
    // while the list is not empty the strict rules (no allow-list) must find something
    expect(violations.length === 0).toBe(config.KNOWN_VIOLATIONS.length === 0);
  });
});

// ---------------------------------------------------------------------------------------------
// Function size

/** Issue 8: "no function in shared/ over about 150 lines". */
const MAX_FUNCTION_LINES = 150;

/** Every function, method, arrow function and function expression in `source` with its line span. */
function functionSpans(file: string, source: string): Array<{ name: string; line: number; lines: number }> {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: Array<{ name: string; line: number; lines: number }> = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node)) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.end).line;
      const named = (node as { name?: ts.Node }).name;
      out.push({ name: named ? named.getText(sf) : '(anonymous)', line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('function size (issue 8)', () => {
  it(`finds no function in shared/ over ${MAX_FUNCTION_LINES} lines`, () => {
    const long = tsFiles(join(ROOT, 'shared')).flatMap((file) =>
      functionSpans(file, readFileSync(file, 'utf8'))
        .filter((f) => f.lines > MAX_FUNCTION_LINES)
        .map((f) => `${file.slice(ROOT.length + 1)}:${f.line} ${f.name} (${f.lines} lines)`),
    );
    expect(long).toEqual([]);
  });

  it('measures a planted long function (the check can fail)', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const spans = functionSpans('planted.ts', `export function tooLong(): number {\n${body}\n  return 0;\n}\nconst short = () => 1;\n`);
    expect(spans.find((f) => f.name === 'tooLong')?.lines).toBe(MAX_FUNCTION_LINES + 3);
    expect(spans.find((f) => f.name === '(anonymous)')?.lines).toBe(1);
  });
});
