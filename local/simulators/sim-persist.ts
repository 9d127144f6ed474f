/**
 * Simulator state kept in `<dataDir>/<file>.json` across runs of the local stack, so a
 * developer's org, mailboxes and messages survive a restart. Writes go to a temporary file
 * renamed over the old one, so a crash never leaves half a file behind.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SimStateFile {
  /** Where the state lives; undefined when the simulator keeps nothing (no dataDir). */
  path: string | undefined;
  /** Write now (and cancel a pending write). */
  flush(): void;
  /**
   * Write shortly (debounced): a sync of thousands of accounts must not rewrite the file
   * per call. Pending writes never keep the process alive.
   */
  scheduleSave(): void;
}

export function simStateFile(opts: {
  dataDir: string | undefined;
  fileName: string;
  /** The document to write (called at each write). */
  snapshot: () => unknown;
  /** JSON indentation (readable files for developers); default none. */
  indent?: number;
  debounceMs?: number;
}): SimStateFile {
  const dataDir = opts.dataDir;
  const path = dataDir ? join(dataDir, opts.fileName) : undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!path || !dataDir) return;
    mkdirSync(dataDir, { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(opts.snapshot(), null, opts.indent));
    renameSync(tmp, path);
  };
  const scheduleSave = (): void => {
    if (!path || timer) return;
    timer = setTimeout(flush, opts.debounceMs ?? 200);
    timer.unref();
  };
  return { path, flush, scheduleSave };
}

/** The file's text, or undefined when there is none yet (first run). */
export function readStateText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The per-tenant states of a `{v: 1, tenants: {...}}` file. No file: {}. A file that is
 * not that format, or a tenant state that `check` refuses (it throws; it may also fill in
 * fields older files lack): `onUnreadable` hears why and the simulator starts from its
 * seed ({}), rather than failing the whole local stack.
 */
export function loadTenantStates<T>(path: string, check: (state: T) => void, onUnreadable: (err: Error) => void): Record<string, T> {
  const text = readStateText(path);
  if (text === undefined) return {};
  try {
    const doc = JSON.parse(text) as { v?: number; tenants?: Record<string, T> };
    if (doc.v !== 1 || !doc.tenants || typeof doc.tenants !== 'object') throw new Error('unknown format');
    for (const s of Object.values(doc.tenants)) check(s);
    return doc.tenants;
  } catch (err) {
    onUnreadable(err as Error);
    return {};
  }
}
