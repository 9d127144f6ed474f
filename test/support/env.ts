/** Environment variables a test file changes, put back afterwards. */

/** Remembers the current values of `names`; the returned function restores them (unset ones are deleted). */
export function saveEnv(...names: string[]): () => void {
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
