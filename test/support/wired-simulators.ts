/**
 * The start of a wired local-stack test: a temp data folder with a file secret store, the
 * NetEase simulator and one directory-source simulator for the tenant, and the tenants file
 * naming their URLs. The simulators need the tenant (domain, paths) before their ports are
 * known, so they start with a draft whose URLs are placeholders; only the URLs change after.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNeteaseSimulator, type RunningNeteaseSimulator } from '../../local/simulators/netease';
import { FileSecretStore } from '../../shared/adapters/local/file.secret-store';
import { tenantSchema, type TenantConfig } from '../../shared/config/tenant-config.schema';

export interface WiredSimulators<S> {
  dataDir: string;
  /** `tenants.json` in dataDir, naming the simulators' real URLs. */
  tenantsFile: string;
  netease: RunningNeteaseSimulator;
  source: S;
  /** Stops both simulators and removes dataDir (stop the local stack first). */
  stop(): Promise<void>;
}

export async function startWiredSimulators<S extends { url: string; stop(): Promise<void> }>(options: {
  /** The temp folder's name prefix (e.g. `qiye-sync-wire-`). */
  prefix: string;
  /** The tenant's config (JSON, as in the tenants file) for the simulators' URLs. */
  tenant: (neteaseUrl: string, sourceUrl: string) => unknown;
  startSource: (draft: TenantConfig, secrets: FileSecretStore) => Promise<S>;
}): Promise<WiredSimulators<S>> {
  const dataDir = await mkdtemp(join(tmpdir(), options.prefix));
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  const draft = tenantSchema.parse(options.tenant('http://127.0.0.1:1', 'http://127.0.0.1:1'));
  const netease = await startNeteaseSimulator({ tenants: [draft], secrets, stage: 'local' });
  const source = await options.startSource(draft, secrets);
  const tenantsFile = join(dataDir, 'tenants.json');
  await writeFile(tenantsFile, JSON.stringify({ tenants: [options.tenant(netease.url, source.url)] }));
  const stop = async () => {
    await source.stop();
    await netease.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  return { dataDir, tenantsFile, netease, source, stop };
}
