/**
 * The whole application on one machine, wired from the same manifest as the CDK stacks
 * (shared/contracts/app-manifest.ts):
 *
 * - DynamoDB: dynalite on disk (`<data>/dynamodb`) with the table from table-definition.ts.
 * - SQS: fauxqs with every queue and DLQ; messages saved to `<data>/queues.json` on a
 *   clean stop and re-sent on the next start.
 * - HTTP API (API Gateway v2 events) for every route, plus GET /health; the SSO Function
 *   URL on its own port.
 * - An SQS event source mapping per consuming function; EventBridge-like schedules.
 * - The vendor simulators that tenants point at (loopback URLs).
 * - Secrets in `<data>/secrets.json` (FileSecretStore).
 *
 * `startLocalStack()` is what `npm start` (local/start.ts) runs and what tests start
 * in-process on random ports. Handlers are the real modules named in FUNCTIONS[*].entry,
 * imported after process.env is set up for them, unless `handlersOverride` replaces them.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../shared/adapters/aws/dynamodb-client';
import { tableName as tableNameFor } from '../shared/adapters/aws/table-definition';
import { FileSecretStore } from '../shared/adapters/local/file.secret-store';
import { tenantChannels } from '../shared/config/channels';
import { loadTenantsFile } from '../shared/config/load-config';
import type { TenantConfig, TenantsFile } from '../shared/config/tenant-config.schema';
import {
  dlqUrlEnv,
  FUNCTION_URL_FN,
  FUNCTIONS,
  queueUrlEnv,
  ROUTES,
  SCHEDULES,
  tenantSyncSchedules,
  type FunctionName,
  type QueueName,
} from '../shared/contracts/app-manifest';
import { AppError } from '../shared/errors/app-error';
import { createLogger, type Logger } from '../shared/logging/logger';
import { resetRuntimeForTests } from '../shared/runtime/runtime';
import { ensurePrivateDir } from './data-dir';
import { createDynamoStateStores } from '../shared/adapters/aws/dynamo-state.store';
import { systemClock } from '../shared/ports/clock';
import { describeProgress, findStuckRuns, syncedTenants, type StuckRun } from '../shared/use-cases/sync/recover-runs';
import { ensureTable, startDynalite, type RunningDynalite } from './dynamodb';
import {
  createFunctionUrlHandler,
  createGatewayHandler,
  isLocalOperator,
  isLoopback,
  jsonResult,
  startHttpServer,
  type HttpResult,
  type LocalEndpoint,
  type RawRequest,
  type RunningHttpServer,
} from './http-gateway';
import { invokeHandler, LOCAL_REGION, type LambdaHandler } from './lambda-invoke';
import { LOCAL_CREDENTIALS, restoreQueues, snapshotQueues, startQueues, type LocalQueue, type RunningQueues } from './queues';
import { provisionSandboxSecrets } from './sandbox';
import { Scheduler } from './scheduler';
import { SIMULATORS } from './simulators/index';
import type { RunningSimulator, SimulatorModule, SimulatorVendor } from './simulators/simulator';
import { SqsPoller } from './sqs-poller';

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_LOCAL_TENANTS_FILE = 'config/tenants.local.json';
export const DEFAULT_PORTS = { gateway: 3000, functionUrl: 3001, dynamodb: 3110, sqs: 3111 } as const;
export const LOCAL_STAGE = 'local';

/** Starts in this process (tests start several stacks one after another). */
let startCount = 0;

export interface LocalStackPorts {
  gateway: number;
  functionUrl: number;
  dynamodb: number;
  sqs: number;
}

export interface LocalStackOptions {
  /** Default QIYE_DATA_DIR, then `.data`. */
  dataDir?: string;
  /** Default QIYE_TENANTS_FILE, then config/tenants.local.json. */
  tenantsFile?: string;
  /** 0 = a free port. Defaults: QIYE_PORT / QIYE_SSO_PORT / QIYE_DYNAMODB_PORT / QIYE_SQS_PORT, then 3000/3001/3110/3111. */
  ports?: Partial<LocalStackPorts>;
  /** Handlers to use instead of importing FUNCTIONS[fn].entry (tests). */
  handlersOverride?: Partial<Record<FunctionName, LambdaHandler>>;
  /** Start the schedule timers (default true). `trigger()` works either way. */
  schedule?: boolean;
  /** Start the queue pollers (default true). */
  pollers?: boolean;
  /** Simulator modules to consider (default: local/simulators/index.ts). */
  simulators?: readonly SimulatorModule[];
  /** Create missing sandbox secrets (keys, link secrets, vendor secrets) on start (default true). */
  provisionSecrets?: boolean;
  /** Visibility timeout used by the pollers instead of the queues' (default QIYE_LOCAL_VISIBILITY_SECONDS). */
  localVisibilitySeconds?: number;
  /** Sync planner rate in minutes (default QIYE_SYNC_RATE_MINUTES, then the manifest). */
  syncRateMinutes?: number;
  maxBodyBytes?: number;
  logger?: Logger;
  /** Where defaults are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Root of the repository (handler entries are relative to it). */
  rootDir?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: {
    dynamodb: { ok: boolean; table: string; status?: string; error?: string };
    queues: Record<string, { ok: boolean; messages?: number; inFlight?: number; delayed?: number; error?: string }>;
    functions: { ok: boolean; loaded: number; failed: Record<string, string> };
    /** Sync runs holding a tenant with no progress for the stuck threshold (recover-runs.ts): degraded until taken over. */
    runs: { ok: boolean; stuck: Array<{ tenant: string; runId: string; status: string; lastProgressAt: string; progress: string }>; error?: string };
  };
}

export interface LocalStack {
  stage: string;
  dataDir: string;
  tenantsFile: string;
  tenants: TenantsFile;
  tableName: string;
  /** 'created' on the first start, 'exists' when the table was already on disk. */
  table: 'created' | 'exists';
  /** Messages re-sent from the previous run's snapshot, per queue. */
  restoredMessages: Record<string, number>;
  urls: {
    gateway: string;
    health: string;
    functionUrl: string;
    dynamodb: string;
    sqs: string;
    simulators: Array<{ vendor: SimulatorVendor; url: string; tenants: string[] }>;
  };
  queues: Record<QueueName, LocalQueue>;
  clients: { dynamodb: DynamoDBClient; documents: DynamoDBDocumentClient; sqs: SQSClient; secrets: FileSecretStore };
  /** Functions whose module could not be loaded, with the reason. */
  handlerErrors: Partial<Record<FunctionName, string>>;
  scheduleRates: Array<{ fn: FunctionName; rateMinutes: number }>;
  /** Run a scheduled function now (after its run in progress, if any). */
  trigger(fn: FunctionName): Promise<unknown>;
  /** Invoke any function with an event, as Lambda would. */
  invoke(fn: FunctionName, event: unknown): Promise<unknown>;
  health(): Promise<HealthReport>;
  /** Stop cleanly: schedules and pollers, wait for invocations, save queues, close servers. */
  stop(): Promise<void>;
}

/**
 * Start the local stack.
 * @throws ConfigError listing every problem of the tenant file (nothing is started then),
 *   AppError LOCAL.* when a port is taken or the stored table does not match.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const rootDir = options.rootDir ?? ROOT_DIR;
  const logger = options.logger ?? createLogger({ fields: { component: 'local-stack' } });
  const host = '127.0.0.1';
  const stage = LOCAL_STAGE;
  const tableName = tableNameFor(stage);

  // Config first: a bad file stops here with every problem listed and nothing running.
  const tenantsFile = resolve(options.tenantsFile ?? env.QIYE_TENANTS_FILE ?? DEFAULT_LOCAL_TENANTS_FILE);
  const tenants = loadTenantsFile(tenantsFile);

  const dataDir = resolve(options.dataDir ?? env.QIYE_DATA_DIR ?? '.data');
  const ports = resolvePorts(options.ports, env);
  const visibility = options.localVisibilitySeconds ?? optionalNumber(env, 'QIYE_LOCAL_VISIBILITY_SECONDS', 0, 43_200);
  const syncRate = options.syncRateMinutes ?? optionalNumber(env, 'QIYE_SYNC_RATE_MINUTES', 0.05, 1440);
  // Seconds without progress before a sync run is taken over (SyncOptions.stuckAfterMs); crash tests use a few.
  const stuckSeconds = optionalNumber(env, 'QIYE_SYNC_STUCK_SECONDS', 1, 86_400);
  const opLeaseSeconds = optionalNumber(env, 'QIYE_SYNC_OP_LEASE_SECONDS', 5, 3600);
  await ensurePrivateDir(dataDir);

  // Each step pushes its undo; stop() (and a start that fails half-way) runs them in
  // reverse: schedules, pollers (waiting for invocations), HTTP servers (waiting for
  // requests), simulators, queue snapshot, SQS, DynamoDB.
  const cleanups: Array<() => Promise<unknown>> = [async () => resetRuntimeForTests()];
  const unwind = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((err) => logger.warn('stop step failed', { error: err }));
  };

  // Invocations wait for the handler modules; a failed start releases them (they then fail).
  let handlersLoaded!: () => void;
  const handlersReady = new Promise<void>((r) => (handlersLoaded = r));

  try {
    // --- DynamoDB -----------------------------------------------------------------------
    const dynamoPath = join(dataDir, 'dynamodb');
    const dynamo: RunningDynalite = await startDynalite({ path: dynamoPath, port: ports.dynamodb, host });
    cleanups.push(() => dynamo.stop());
    const dynamodb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    cleanups.push(async () => dynamodb.destroy());
    let table: 'created' | 'exists';
    try {
      table = await ensureTable(dynamodb, tableName, dynamoPath);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('LOCAL.DYNAMODB_UNAVAILABLE', `The local DynamoDB store in ${dynamoPath} could not be opened (${(err as Error).message}). Is another \`npm start\` using this data folder?`, { cause: err });
    }
    const documents = createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    cleanups.push(async () => documents.destroy());

    // --- SQS ----------------------------------------------------------------------------
    const sqs: RunningQueues = await startQueues({ port: ports.sqs, host, stage, logger });
    cleanups.push(() => sqs.stop());
    const snapshotFile = join(dataDir, 'queues.json');
    const restoredMessages = await restoreQueues(sqs, snapshotFile, logger);
    cleanups.push(async () => {
      const saved = await snapshotQueues(sqs, snapshotFile);
      if (saved > 0) logger.info('queued messages saved for the next start', { messages: saved, file: snapshotFile });
    });

    // --- Environment of the handlers (before importing them) -------------------------------
    const secretsFile = join(dataDir, 'secrets.json');
    const handlerEnv: Record<string, string> = {
      QIYE_STAGE: stage,
      TABLE_NAME: tableName,
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      // Obviously fake: the local emulators accept any credentials.
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      QIYE_SECRETS_BACKEND: 'file',
      QIYE_SECRETS_FILE: secretsFile,
      QIYE_TENANTS_FILE: tenantsFile,
      QIYE_DATA_DIR: dataDir,
      ...(stuckSeconds !== undefined ? { QIYE_SYNC_STUCK_SECONDS: String(stuckSeconds) } : {}),
      ...(opLeaseSeconds !== undefined ? { QIYE_SYNC_OP_LEASE_SECONDS: String(opLeaseSeconds) } : {}),
    };
    for (const q of Object.values(sqs.queues)) {
      handlerEnv[queueUrlEnv(q.name)] = q.url;
      handlerEnv[dlqUrlEnv(q.name)] = q.dlqUrl;
    }
    Object.assign(process.env, handlerEnv);
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    const secrets = new FileSecretStore(secretsFile);

    // --- Sandbox secrets (before the simulators, which read keys from the store) ----------
    if (options.provisionSecrets !== false) {
      await provisionSandboxSecrets({ tenants: tenants.tenants, secrets, stage, logger });
    }

    // --- Simulators -----------------------------------------------------------------------
    const simulatorUrls: LocalStack['urls']['simulators'] = [];
    for (const target of simulatorTargets(tenants.tenants, options.simulators ?? SIMULATORS)) {
      const sim: RunningSimulator = await target.module
        .start({
          host,
          port: target.port,
          tenants: target.tenants,
          dataDir: join(dataDir, 'simulators', target.module.vendor),
          secrets,
          stage,
          logger: logger.child({ simulator: target.module.vendor }),
        })
        .catch((err: unknown) => Promise.reject(simulatorStartError(target, host, tenantsFile, err)));
      cleanups.push(() => sim.stop());
      simulatorUrls.push({ vendor: sim.vendor, url: sim.url, tenants: target.tenants.map((t) => t.id) });
    }

    // --- Servers (bound before the handlers load, so their base URLs are known) -----------
    const handlers: Partial<Record<FunctionName, LambdaHandler>> = {};
    const handlerErrors: Partial<Record<FunctionName, string>> = {};
    const invoke = async (fn: FunctionName, event: unknown): Promise<unknown> => {
      await handlersReady;
      const h = handlers[fn];
      if (!h) throw new AppError('LOCAL.FUNCTION_NOT_LOADED', `Function ${fn} failed to initialize: ${handlerErrors[fn] ?? 'no handler'}`);
      const spec = FUNCTIONS[fn];
      return invokeHandler({ name: fn, timeoutSeconds: spec.timeoutSeconds, memoryMb: spec.memoryMb, stage }, h, event, logger);
    };

    let scheduler: Scheduler | undefined;
    const runStores = createDynamoStateStores(documents, tableName);
    const syncTenantIds = syncedTenants(tenants.tenants).map((t) => t.id);
    const stuckRuns = () =>
      findStuckRuns({ stores: runStores, clock: systemClock, options: stuckSeconds !== undefined ? { stuckAfterMs: stuckSeconds * 1000 } : {} }, syncTenantIds);
    const health = () => checkHealth({ dynamodb, tableName, sqs, handlers, handlerErrors, stuckRuns });
    const endpoints: LocalEndpoint[] = [
      async (req) => {
        if (req.method !== 'GET' || req.url.split('?')[0] !== '/health') return undefined;
        const report = await health();
        return jsonResult(report.status === 'ok' ? 200 : 503, report);
      },
      async (req) => triggerEndpoint(req, (fn) => scheduler!.trigger(fn)),
    ];

    const gateway: RunningHttpServer = await startHttpServer({
      host,
      port: ports.gateway,
      what: 'the HTTP API gateway',
      envVar: 'QIYE_PORT',
      maxBodyBytes: options.maxBodyBytes,
      logger,
      handle: createGatewayHandler({ routes: ROUTES, invoke: (fn, e) => invoke(fn, e), logger, localEndpoints: endpoints }),
    });
    cleanups.push(() => gateway.stop());
    const functionUrl: RunningHttpServer = await startHttpServer({
      host,
      port: ports.functionUrl,
      what: 'the SSO function URL',
      envVar: 'QIYE_SSO_PORT',
      maxBodyBytes: options.maxBodyBytes,
      logger,
      handle: createFunctionUrlHandler({ fn: FUNCTION_URL_FN, invoke: (fn, e) => invoke(fn, e), logger }),
    });
    cleanups.push(() => functionUrl.stop());
    process.env.QIYE_PUBLIC_BASE_URL = gateway.url;
    process.env.QIYE_SSO_BASE_URL = functionUrl.url;

    // --- Handlers -------------------------------------------------------------------------
    // Handlers memoize their runtime at cold start; a fresh start in the same process
    // (tests) must not reuse clients pointing at the previous run's ports.
    resetRuntimeForTests();
    startCount++;
    for (const spec of Object.values(FUNCTIONS)) {
      const override = options.handlersOverride?.[spec.name];
      if (override) {
        handlers[spec.name] = override;
        continue;
      }
      try {
        // A later start in the same process imports fresh module instances: handlers build
        // their clients once (cold start), and those would still point at the previous run.
        const href = pathToFileURL(join(rootDir, spec.entry)).href + (startCount > 1 ? `?start=${startCount}` : '');
        const mod = (await import(href)) as { handler?: unknown };
        if (typeof mod.handler !== 'function') throw new Error(`${spec.entry} does not export a function named "handler"`);
        handlers[spec.name] = mod.handler as LambdaHandler;
      } catch (err) {
        // Like a Lambda init error: the stack runs, this function's invocations fail.
        handlerErrors[spec.name] = `${(err as Error).name}: ${(err as Error).message}`;
        logger.error('function failed to load', { function: spec.name, entry: spec.entry, error: err });
      }
    }
    handlersLoaded();

    // --- Event sources --------------------------------------------------------------------
    const pollers: SqsPoller[] = [];
    if (options.pollers !== false) {
      for (const spec of Object.values(FUNCTIONS)) {
        if (!spec.consumes) continue;
        const q = sqs.queues[spec.consumes.queue];
        const poller = new SqsPoller({
          target: { name: spec.name, timeoutSeconds: spec.timeoutSeconds, memoryMb: spec.memoryMb, stage },
          handler: () => {
            const h = handlers[spec.name];
            if (!h) throw new AppError('LOCAL.FUNCTION_NOT_LOADED', `Function ${spec.name} failed to initialize: ${handlerErrors[spec.name]}`);
            return h;
          },
          client: sqs.client,
          queueUrl: q.url,
          queueArn: q.arn,
          batchSize: spec.consumes.batchSize,
          maxBatchingWindowSeconds: spec.consumes.maxBatchingWindowSeconds,
          // Lambda's default is "as many as the queue needs"; locally a few are plenty.
          maxConcurrency: spec.consumes.maxConcurrency ?? 2,
          visibilityTimeoutSeconds: visibility,
          logger,
        });
        poller.start();
        pollers.push(poller);
      }
    }
    cleanups.push(() => Promise.all(pollers.map((p) => p.stop())));

    scheduler = new Scheduler({
      schedules: SCHEDULES,
      // One sync schedule per tenant, as deployed (QIYE_SYNC_RATE_MINUTES: EKP incremental runs).
      tenantSchedules: tenantSyncSchedules(tenants.tenants, syncRate !== undefined ? { incrementalMinutes: syncRate } : {}),
      invoke: (fn, event) => invoke(fn, event),
      stage,
      logger,
      timers: options.schedule !== false,
    });
    scheduler.start();
    const sched = scheduler;
    cleanups.push(() => sched.stop());

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= unwind());

    return {
      stage,
      dataDir,
      tenantsFile,
      tenants,
      tableName,
      table,
      restoredMessages,
      urls: {
        gateway: gateway.url,
        health: `${gateway.url}/health`,
        functionUrl: functionUrl.url,
        dynamodb: dynamo.endpoint,
        sqs: sqs.endpoint,
        simulators: simulatorUrls,
      },
      queues: sqs.queues,
      clients: { dynamodb, documents, sqs: sqs.client, secrets },
      handlerErrors,
      scheduleRates: sched.rates(),
      trigger: (fn) => sched.trigger(fn),
      invoke,
      health,
      stop,
    };
  } catch (err) {
    handlersLoaded();
    await unwind();
    throw err;
  }
}

function resolvePorts(given: Partial<LocalStackPorts> | undefined, env: NodeJS.ProcessEnv): LocalStackPorts {
  const pick = (key: keyof LocalStackPorts, envVar: string): number => {
    const v = given?.[key] ?? optionalNumber(env, envVar, 0, 65535);
    return v ?? DEFAULT_PORTS[key];
  };
  return {
    gateway: pick('gateway', 'QIYE_PORT'),
    functionUrl: pick('functionUrl', 'QIYE_SSO_PORT'),
    dynamodb: pick('dynamodb', 'QIYE_DYNAMODB_PORT'),
    sqs: pick('sqs', 'QIYE_SQS_PORT'),
  };
}

function optionalNumber(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new AppError('LOCAL.BAD_ENV', `${name}=${JSON.stringify(raw)} is not a number between ${min} and ${max}`);
  }
  return n;
}

/** POST /_local/trigger/<fn>: run a scheduled function now (loopback callers only); syncPlanner: every tenant's scheduled run. */
async function triggerEndpoint(req: RawRequest, trigger: (fn: FunctionName) => Promise<unknown>): Promise<HttpResult | undefined> {
  const m = /^\/_local\/trigger\/([A-Za-z]+)$/.exec(req.url.split('?')[0] ?? '');
  if (!m || req.method !== 'POST') return undefined;
  if (!isLocalOperator(req)) return jsonResult(403, { message: 'Forbidden' });
  const fn = m[1] as FunctionName;
  const scheduled: FunctionName[] = ['syncPlanner', ...SCHEDULES.map((s) => s.fn)];
  if (!scheduled.includes(fn)) return jsonResult(404, { message: `"${fn}" has no schedule`, scheduled });
  try {
    const result = await trigger(fn);
    return jsonResult(200, { ok: true, function: fn, result: result ?? null });
  } catch (err) {
    const e = err as Error & { code?: string };
    return jsonResult(500, { ok: false, function: fn, error: { name: e.name, code: e.code, message: e.message } });
  }
}

async function checkHealth(args: {
  dynamodb: DynamoDBClient;
  tableName: string;
  sqs: RunningQueues;
  handlers: Partial<Record<FunctionName, LambdaHandler>>;
  handlerErrors: Partial<Record<FunctionName, string>>;
  stuckRuns: () => Promise<StuckRun[]>;
}): Promise<HealthReport> {
  const dynamodb: HealthReport['checks']['dynamodb'] = { ok: false, table: args.tableName };
  try {
    const out = await args.dynamodb.send(new DescribeTableCommand({ TableName: args.tableName }));
    dynamodb.status = out.Table?.TableStatus;
    dynamodb.ok = out.Table?.TableStatus === 'ACTIVE';
  } catch (err) {
    dynamodb.error = `${(err as Error).name}: ${(err as Error).message}`;
  }
  const queues: HealthReport['checks']['queues'] = {};
  const urls = Object.values(args.sqs.queues).flatMap((q) => [
    [q.physicalName, q.url],
    [q.dlqName, q.dlqUrl],
  ]);
  await Promise.all(
    urls.map(async ([name, url]) => {
      try {
        const out = await args.sqs.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
          }),
        );
        const a = out.Attributes ?? {};
        queues[name!] = {
          ok: true,
          messages: Number(a.ApproximateNumberOfMessages ?? 0),
          inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
          delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
        };
      } catch (err) {
        queues[name!] = { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
      }
    }),
  );
  const failed = Object.fromEntries(Object.entries(args.handlerErrors)) as Record<string, string>;
  const functions = { ok: Object.keys(failed).length === 0, loaded: Object.keys(args.handlers).length, failed };
  const runs: HealthReport['checks']['runs'] = { ok: true, stuck: [] };
  if (dynamodb.ok) {
    try {
      runs.stuck = (await args.stuckRuns()).map((s) => ({
        tenant: s.tenantId,
        runId: s.runId,
        status: s.progress.status,
        lastProgressAt: new Date(s.progress.lastProgressAt).toISOString(),
        progress: describeProgress(s.progress),
      }));
      runs.ok = runs.stuck.length === 0;
    } catch (err) {
      runs.ok = false;
      runs.error = `${(err as Error).name}: ${(err as Error).message}`;
    }
  }
  const ok = dynamodb.ok && Object.values(queues).every((q) => q.ok) && functions.ok && runs.ok;
  return { status: ok ? 'ok' : 'degraded', checks: { dynamodb, queues, functions, runs } };
}

interface SimulatorTarget {
  module: SimulatorModule;
  port: number;
  tenants: TenantConfig[];
  /** The first URL of each tenant that points here (for error messages). */
  urls: Array<{ tenant: string; url: string }>;
}

/**
 * A simulator that cannot start (most often: its port is taken, by another `npm start` or
 * by a real service) says which tenants, which vendor and which URL made the stack want it.
 */
export function simulatorStartError(target: Pick<SimulatorTarget, 'module' | 'port' | 'urls'>, host: string, tenantsFile: string, err: unknown): AppError {
  const vendor = target.module.vendor;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = code === 'EADDRINUSE' ? `port ${target.port} is already in use` : code === 'EACCES' ? `no permission to listen on port ${target.port}` : (err as Error)?.message ?? String(err);
  const first = target.urls[0];
  const names = target.urls.map((u) => `"${u.tenant}"`).join(', ');
  const pointing = first ? `Tenant ${names} point${target.urls.length === 1 ? 's' : ''} ${vendor} at ${first.url}` : `Some tenant points ${vendor} at ${host}:${target.port}`;
  return new AppError(
    'LOCAL.SIMULATOR_FAILED',
    `Cannot start the ${vendor} simulator on ${host}:${target.port}: ${why}. ${pointing} (${tenantsFile}). ` +
      `If a real ${vendor} service runs there, add "simulate": false to the "${vendor}" section of ${target.urls.length === 1 ? 'that tenant' : 'those tenants'}; ` +
      `otherwise stop what uses the port (another \`npm start\`?) or change the URL.`,
    { cause: err },
  );
}

/**
 * The URLs of each vendor section that a simulator would serve (none when the section says
 * `"simulate": false`). DingTalk: the extra orgs of `channels[]` too (the simulator serves
 * each as an org of its own); the WeCom simulator serves top-level sections only.
 */
function vendorUrls(t: TenantConfig, vendor: SimulatorVendor): string[] {
  if (vendor === 'dingtalk') {
    return tenantChannels(t).flatMap((c) => (c.vendor === 'dingtalk' && c.settings.simulate !== false ? [c.settings.apiBaseUrl, c.settings.newApiBaseUrl, c.settings.loginBaseUrl] : []));
  }
  if (t[vendor]?.simulate === false) return [];
  switch (vendor) {
    case 'netease':
      return [t.netease.apiBaseUrl, t.netease.ssoEntryUrl, t.netease.unreadUrl];
    case 'wecom':
      return t.wecom ? [t.wecom.apiBaseUrl, t.wecom.oauthBaseUrl, t.wecom.loginBaseUrl] : [];
    case 'ekp':
      return t.ekp ? [t.ekp.baseUrl] : [];
  }
}

/**
 * One simulator per (vendor, loopback port) that some tenant's URLs use, with the tenants
 * that point there. Vendors without a simulator module, real (non-loopback) URLs and vendor
 * sections with `"simulate": false` (a real service on this machine) are skipped.
 */
export function simulatorTargets(tenants: readonly TenantConfig[], modules: readonly SimulatorModule[]): SimulatorTarget[] {
  const targets: SimulatorTarget[] = [];
  for (const module of modules) {
    const byPort = new Map<number, { tenants: TenantConfig[]; urls: SimulatorTarget['urls'] }>();
    for (const t of tenants) {
      const portsOfTenant = new Map<number, string>();
      for (const u of vendorUrls(t, module.vendor)) {
        const url = new URL(u);
        if (!isLoopback(url.hostname)) continue;
        const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
        if (!portsOfTenant.has(port)) portsOfTenant.set(port, u);
      }
      for (const [p, u] of portsOfTenant) {
        const entry = byPort.get(p) ?? { tenants: [], urls: [] };
        entry.tenants.push(t);
        entry.urls.push({ tenant: t.id, url: u });
        byPort.set(p, entry);
      }
    }
    for (const [port, e] of byPort) targets.push({ module, port, tenants: e.tenants, urls: e.urls });
  }
  return targets;
}
