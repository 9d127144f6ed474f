/** Temporary folders for a test file, all removed after the file's tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { afterAll } from 'vitest';

/** Registers an afterAll hook and returns a `mkdtemp(prefix)` whose folders that hook removes. */
export function tempDirs(): (prefix: string) => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
  });
  return async (prefix) => {
    const dir = await mkdtemp(prefix);
    made.push(dir);
    return dir;
  };
}
