/**
 * The README's "Code map" names real files: every backticked path in the table exists. A bare
 * file name is resolved in the folder of the last path of the same cell (the table's own
 * rule), `{a,b}` is expanded and `*` matched against the folder's files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

function expand(p: string): string[] {
  const m = /\{([^}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expand(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

/** Whether `p` (relative to the root, `*` allowed in its last segment only) names something. */
function exists(p: string): boolean {
  const clean = p.replace(/\/$/, '');
  if (!clean.includes('*')) return existsSync(join(ROOT, clean));
  const dir = join(ROOT, dirname(clean));
  const re = new RegExp(`^${clean.split('/').pop()!.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return existsSync(dir) && readdirSync(dir).some((f) => re.test(f));
}

function codeMapPaths(readme: string): string[] {
  const start = readme.indexOf('### Code map');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const paths: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('|---')) continue;
    for (const cell of line.split('|').slice(2)) {
      let base: string | undefined;
      for (const [, tok] of cell.matchAll(/`([^`]+)`/g)) {
        if (/[ (]/.test(tok!) || tok!.startsWith('npm')) continue;
        const isPath = tok!.includes('/') || /\.(ts|js|json|cjs)$/.test(tok!);
        if (!isPath) continue; // an identifier (createTenantClients) or a stage name
        if (tok!.includes('/')) {
          base = tok!.endsWith('/') ? tok!.replace(/\/$/, '') : dirname(tok!);
          paths.push(...expand(tok!));
        } else {
          paths.push(...expand(base ? join(base, tok!) : `(no folder before) ${tok}`));
        }
      }
    }
  }
  return paths;
}

describe('README code map', () => {
  it('names only paths that exist', () => {
    const paths = codeMapPaths(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(paths.length).toBeGreaterThan(150);
    expect(paths.filter((p) => !exists(p))).toEqual([]);
  });

  it('would notice a path that does not exist', () => {
    const paths = codeMapPaths('### Code map\n\n| a | b | c | d |\n|---|---|---|---|\n| x | `shared/adapters/sources.ts`, `sync-job.ts` | — | — |\n\n## Next\n');
    expect(paths).toEqual(['shared/adapters/sources.ts', 'shared/adapters/sync-job.ts']);
    expect(paths.filter((p) => !exists(p))).toEqual(paths);
  });
});
