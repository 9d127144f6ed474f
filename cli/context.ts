/**
 * Where a CLI command acts: the local stack (stage "local": file secrets under the data
 * folder, config/tenants.local.json) or a deployed stage (Secrets Manager in the current
 * AWS account and region, config/tenants.json). QIYE_TENANTS_FILE overrides the file.
 */
import { join, resolve } from 'node:path';
import { loadTenantsFile } from '../shared/config/load-config';
import type { TenantConfig, TenantsFile } from '../shared/config/tenant-config.schema';
import { ValidationError } from '../shared/errors/app-error';
import type { Wiring } from '../shared/wiring/wiring';

export interface CliContext {
  stage: string;
  isLocal: boolean;
  tenantsFile: string;
  dataDir: string;
  out: (line: string) => void;
  err: (line: string) => void;
  /** A secret value from standard input, never echoed (cli/stdin.ts). */
  readSecret(): Promise<string>;
  /** Loaded on first use. */
  config(): TenantsFile;
  tenant(id: string | undefined): TenantConfig;
}

export interface CliIo {
  out: (l: string) => void;
  err: (l: string) => void;
  /** Standard input as text (tests pass the value; default: cli/stdin.ts on process.stdin). */
  readStdin?: () => Promise<string>;
}

export function createContext(stage: string, io: CliIo, env: NodeJS.ProcessEnv = process.env): CliContext {
  const isLocal = stage === 'local';
  const tenantsFile = resolve(env.QIYE_TENANTS_FILE ?? (isLocal ? 'config/tenants.local.json' : 'config/tenants.json'));
  const dataDir = resolve(env.QIYE_DATA_DIR ?? '.data');
  let cached: TenantsFile | undefined;
  const config = () => (cached ??= loadTenantsFile(tenantsFile));
  return {
    stage,
    isLocal,
    tenantsFile,
    dataDir,
    out: io.out,
    err: io.err,
    readSecret: io.readStdin ?? (async () => (await import('./stdin')).readSecretInput({ prompt: io.err })),
    config,
    tenant(id) {
      if (!id) throw new ValidationError('--tenant <id> is required.');
      const t = config().tenants.find((x) => x.id === id);
      if (!t) throw new ValidationError(`Unknown tenant "${id}" in ${tenantsFile}. Known: ${config().tenants.map((x) => x.id).join(', ')}`);
      return t;
    },
  };
}

/** The local secrets file (the same path the local stack uses). */
export function localSecretsFile(ctx: CliContext): string {
  return join(ctx.dataDir, 'secrets.json');
}

/** The secret store this stage uses: the local file store, or Secrets Manager. */
export async function secretStoreFor(ctx: CliContext): Promise<import('../shared/ports/secret-store').SecretStore> {
  if (ctx.isLocal) {
    const { FileSecretStore } = await import('../shared/adapters/local/file.secret-store');
    return new FileSecretStore(localSecretsFile(ctx));
  }
  const { SecretsManagerSecretStore } = await import('../shared/adapters/aws/secrets-manager.secret-store');
  return new SecretsManagerSecretStore({});
}

/**
 * The wiring of this CLI process on a deployed stage (shared/wiring/stage.ts): the admin
 * function's stores, tenant clients (one rate limiter per tenant and vendor) and usage meter.
 * Built once per context; main() calls {@link flushContext} before the command returns.
 */
export function stageWiringFor(ctx: CliContext): Promise<Wiring> {
  let w = wiringByContext.get(ctx);
  if (!w) {
    w = (async () => {
      const [{ stageWiring }, { createLogger }] = await Promise.all([import('../shared/wiring/stage'), import('../shared/logging/logger')]);
      const logger = createLogger({ level: 'warn', fields: { component: 'cli', stage: ctx.stage } });
      return stageWiring({ stage: ctx.stage, tenants: ctx.config(), secrets: await secretStoreFor(ctx), logger });
    })();
    wiringByContext.set(ctx, w);
    w.catch(() => wiringByContext.delete(ctx));
  }
  return w;
}

/** Write the usage counts of the context's wiring (its DingTalk and WeCom calls), if it was built. */
export async function flushContext(ctx: CliContext): Promise<void> {
  // A wiring that failed to build has already failed the command; there is nothing to write.
  const wiring = await wiringByContext.get(ctx)?.catch(() => undefined);
  await wiring?.flush();
}

const wiringByContext = new WeakMap<CliContext, Promise<Wiring>>();
