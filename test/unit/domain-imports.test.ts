import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// shared/domain is pure: it may import only its own files (no Node built-ins, no packages,
// no adapters or config), so the planner runs anywhere and stays testable without I/O.
describe('shared/domain boundaries', () => {
  it('imports nothing outside shared/domain', () => {
    const dir = join(import.meta.dirname, '../../shared/domain');
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
        if (!m[1]!.startsWith('./')) offenders.push(`${file}: ${m[1]}`);
      }
      for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) offenders.push(`${file}: dynamic ${m[1]}`);
    }
    expect(offenders).toEqual([]);
  });
});
