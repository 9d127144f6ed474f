/**
 * What the operator console's routes (functions/http/console/) are built from: ports and the
 * use cases' dependencies, assembled by the wiring (shared/wiring/console.ts) or by a test.
 */
import type { TenantConfig, TenantsFile } from '../../config/tenant-config.schema';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { ConsoleStore } from '../../ports/console-store';
import type { DeadLetterQueues } from '../../ports/dead-letters';
import type { OnceStore } from '../../ports/once-store';
import type { SecretStore } from '../../ports/secret-store';
import type { SyncDeps } from '../sync/sync-deps';
import type { ConsoleKeys } from './session';
import type { ConsoleSignInDeps } from './sign-in';

export interface ConsoleDeps {
  config: TenantsFile;
  logger: Logger;
  clock: Clock;
  stage: string;
  store: ConsoleStore;
  once: OnceStore;
  secrets: SecretStore;
  sync: SyncDeps;
  signIn: ConsoleSignInDeps;
  /** The keys derived from the deployment secret (read once, cached by the wiring). */
  keys(): Promise<ConsoleKeys>;
  /** Absent where the function is not wired to the queues. */
  deadLetters?: DeadLetterQueues;
  /** A cheap authenticated call to the tenant's DingTalk / WeCom app: does its token work? */
  tokenCheck(tenant: TenantConfig): Promise<{ ok: boolean; detail: string }>;
}
