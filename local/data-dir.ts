/**
 * The local data folder (`.data/` or QIYE_DATA_DIR) holds the secrets file and the stores,
 * so it is the owner's only: 0700, also when it already existed with a wider mode
 * (mkdir's `mode` applies only to a folder it creates, and only through the umask).
 */
import { chmod, mkdir } from 'node:fs/promises';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
