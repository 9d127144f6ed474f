/**
 * The wiring of an operator's process on a deployed stage (the CLI with `--stage <name>`):
 * the admin function's wiring (./wiring.ts, `wiringOf`), built on a runtime whose parts come
 * from the stage's names instead of a function's environment: the table `tableName(stage)`,
 * the queues the admin function sends to found by name (GetQueueUrl), the tenants file and
 * secret store the caller picked, DynamoDB and SQS through the usual AWS chain (and
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS where set).
 *
 * So the CLI's routes run on the same stores, tenant clients (one rate limiter per tenant
 * and vendor) and usage meter the admin function would build; the caller calls
 * `wiring.flush()` before the process exits, so its DingTalk and WeCom calls are counted.
 */
import { SqsJobQueue } from '../adapters/aws/sqs.job-queue';
import { createDocumentClient } from '../adapters/aws/dynamodb-client';
import { tableName } from '../adapters/aws/table-definition';
import { loadEnv } from '../config/env';
import type { TenantsFile } from '../config/tenant-config.schema';
import { FUNCTIONS, queueName } from '../contracts/app-manifest';
import type { Logger } from '../logging/logger';
import type { SecretStore } from '../ports/secret-store';
import { runtimeOf } from '../runtime/runtime';
import { wiringOf, type Wiring } from './wiring';

export interface StageWiringOptions {
  stage: string;
  tenants: TenantsFile;
  secrets: SecretStore;
  logger: Logger;
}

/**
 * The admin function's wiring for `stage`, from this process.
 * @throws ConfigError when the stage name is not a valid one (1-20 of a-z, 0-9, -).
 */
export async function stageWiring(opts: StageWiringOptions): Promise<Wiring> {
  const env = loadEnv({ QIYE_STAGE: opts.stage, TABLE_NAME: tableName(opts.stage) });
  const jobs = await SqsJobQueue.byName(FUNCTIONS.admin.sendsTo, (q) => queueName(opts.stage, q));
  const rt = runtimeOf('admin', { env, tenants: opts.tenants, ddb: createDocumentClient(), jobs, secrets: opts.secrets }, opts.logger);
  return wiringOf(rt, 'admin');
}
