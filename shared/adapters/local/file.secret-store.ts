/**
 * SecretStore in one local JSON file, for the local stack (`QIYE_SECRETS_BACKEND=file`).
 *
 * The file maps secret name (the same `qiye-bridge/<stage>/<tenant>/<kind>` names as in
 * Secrets Manager) to its JSON value:
 *   { "qiye-bridge/local/sandbox/oa": { "linkSecret": "..." } }
 *
 * It is read on every get (no cache: another process, such as the CLI, may have just
 * written it) and written atomically: a temporary file in the same folder, mode 0600,
 * then rename over the old one, so a reader never sees half a file and the values are
 * readable by the owner only. Writes within one process are serialized; two processes
 * writing at the same instant may lose one update (last rename wins), which is acceptable
 * for a developer's machine. Values never appear in errors.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError, ConfigError } from '../../errors/app-error';
import type { SecretStore } from '../../ports/secret-store';

export class FileSecretStore implements SecretStore {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();

  /** `path` defaults to `QIYE_SECRETS_FILE`. */
  constructor(path: string | undefined = process.env.QIYE_SECRETS_FILE) {
    if (!path) {
      throw new ConfigError('The file secret store needs a path:', [{ file: 'env', path: 'QIYE_SECRETS_FILE', reason: 'is not set' }]);
    }
    this.path = resolve(path);
  }

  async getJson(name: string): Promise<Record<string, unknown> | undefined> {
    const all = await this.readAll();
    const value = all[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new AppError('SECRET.INVALID_JSON', `Secret "${name}" in ${this.path} is not a JSON object`);
    }
    return value as Record<string, unknown>;
  }

  async putJson(name: string, value: Record<string, unknown>): Promise<void> {
    const run = this.queue.then(async () => {
      const all = await this.readAll();
      all[name] = value;
      await this.writeAll(all);
    });
    // Keep the chain alive after a failed write; the caller still sees the failure.
    this.queue = run.catch(() => undefined);
    await run;
  }

  /** Names of the stored secrets (never their values), e.g. for `secrets list`. */
  async names(): Promise<string[]> {
    return Object.keys(await this.readAll()).sort();
  }

  private async readAll(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new AppError('SECRET.FILE_UNREADABLE', `Cannot read the secrets file ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    if (text.trim() === '') return {};
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      // No cause: a JSON SyntaxError message quotes the text around the error, i.e. secret values.
      throw new ConfigError('The secrets file is not valid JSON:', [{ file: this.path, path: '', reason: 'not valid JSON (fix or delete the file)' }]);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ConfigError('The secrets file is invalid:', [{ file: this.path, path: '', reason: 'must be a JSON object mapping secret names to values' }]);
    }
    return doc as Record<string, unknown>;
  }

  private async writeAll(all: Record<string, unknown>): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(all, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      // The umask can only remove bits, but be explicit in case the file system ignores `mode`.
      await chmod(tmp, 0o600);
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new AppError('SECRET.FILE_UNWRITABLE', `Cannot write the secrets file ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err, retryable: false });
    }
  }
}
