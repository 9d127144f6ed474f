/**
 * Loads and validates the tenant config, once, failing loudly with every problem listed.
 *
 * Where it comes from, in order:
 * 1. the copy baked into a Lambda bundle at synth (esbuild `define` of `__QIYE_TENANTS__`,
 *    validated at synth and again at cold start);
 * 2. the file named by `QIYE_TENANTS_FILE`;
 * 3. `config/tenants.json` under the current directory.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors/app-error';
import { tenantsFileSchema, type TenantConfig, type TenantsFile } from './tenant-config.schema';

declare const __QIYE_TENANTS__: string | undefined;

export const DEFAULT_TENANTS_FILE = 'config/tenants.json';

/** Validate an already-parsed document; `file` names it in problems. */
export function parseTenantsConfig(doc: unknown, file: string): TenantsFile {
  const result = tenantsFileSchema.safeParse(doc);
  if (result.success) return result.data;
  // zod skips the file-level checks (duplicate ids and domains) once a tenant fails to
  // parse; run them on the raw document so every problem is listed in one go.
  const problems = zodProblems(result.error, file);
  for (const p of rawDuplicateProblems(doc, file)) {
    if (!problems.some((q) => q.path === p.path && q.reason === p.reason)) problems.push(p);
  }
  throw new ConfigError(`Tenant config ${file} is invalid (${problems.length} problem(s)):`, problems);
}

/** Duplicate tenant ids and mail domains, read from the unvalidated document. */
function rawDuplicateProblems(doc: unknown, file: string): ConfigProblem[] {
  const tenants = (doc as { tenants?: unknown } | null)?.tenants;
  if (!Array.isArray(tenants)) return [];
  const out: ConfigProblem[] = [];
  const seen = { id: new Map<string, number>(), domain: new Map<string, number>() };
  tenants.forEach((t: unknown, i) => {
    const rec = (t ?? {}) as { id?: unknown; netease?: { domain?: unknown } };
    const checks: Array<[keyof typeof seen, unknown, string, string]> = [
      ['id', rec.id, `tenants[${i}].id`, 'id'],
      ['domain', typeof rec.netease?.domain === 'string' ? rec.netease.domain.toLowerCase() : undefined, `tenants[${i}].netease.domain`, 'netease.domain'],
    ];
    for (const [kind, value, path, label] of checks) {
      if (typeof value !== 'string') continue;
      const first = seen[kind].get(value);
      if (first === undefined) seen[kind].set(value, i);
      else out.push({ file, path, reason: `duplicates tenants[${first}].${label} "${value}"` });
    }
  });
  return out;
}

/** Read, parse and validate a tenant config file. */
export function loadTenantsFile(path: string): TenantsFile {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read tenant config ${file}:`, [{ file, path: '', reason: (err as Error).message }], { cause: err });
  }
  return parseTenantsConfig(parseJson(text, file), file);
}

/** The config for this process, from the baked copy, QIYE_TENANTS_FILE or config/tenants.json. */
export function loadTenantsConfig(env: NodeJS.ProcessEnv = process.env): TenantsFile {
  const baked = typeof __QIYE_TENANTS__ === 'string' ? __QIYE_TENANTS__ : undefined;
  if (baked && !env.QIYE_TENANTS_FILE) return parseTenantsConfig(parseJson(baked, '<bundled tenants config>'), '<bundled tenants config>');
  return loadTenantsFile(env.QIYE_TENANTS_FILE ?? DEFAULT_TENANTS_FILE);
}

/** Look a tenant up by id; undefined when it is not declared. */
export function findTenant(config: TenantsFile, id: string): TenantConfig | undefined {
  return config.tenants.find((t) => t.id === id);
}

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    // Node reports "at position N"; turn it into line:column for a person.
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      where = `line ${line}, column ${col}`;
    }
    throw new ConfigError(`Tenant config ${file} is not valid JSON:`, [{ file, path: where, reason: msg }], { cause: err });
  }
}

export function zodProblems(error: z.ZodError, file: string): ConfigProblem[] {
  return error.issues.map((issue) => ({
    file,
    path: formatPath(issue.path),
    reason: issue.message,
  }));
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)), '');
}
