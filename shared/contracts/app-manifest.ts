/**
 * The one description of the deployed application: functions, HTTP routes, queues and
 * schedules. The CDK stacks (infra/) and the local stack (local/) are both built from it,
 * so what runs on a laptop is wired exactly like what runs in AWS.
 *
 * Pure data: no imports of AWS or CDK code.
 */
import type { SecretKind } from '../config/secrets';
import type { TenantConfig } from '../config/tenant-config.schema';

export type QueueName = 'plan' | 'sync' | 'callback' | 'notify';

export interface QueueSpec {
  /** Physical name suffix: `qiye-bridge-<stage>-<name>` (and `-dlq`). */
  name: QueueName;
  description: string;
  /** Must exceed the consuming function's timeout (AWS recommends 6x). */
  visibilityTimeoutSeconds: number;
  /** Deliveries before a message is moved to the DLQ. */
  maxReceiveCount: number;
  retentionSeconds: number;
  dlqRetentionSeconds: number;
}

export const QUEUES: Record<QueueName, QueueSpec> = {
  plan: {
    name: 'plan',
    description: 'On-demand sync requests (admin API, CLI): each message asks the sync planner to plan and start one run.',
    // Above 6x the planner's 300 s timeout (AWS's advice for SQS event sources), and above
    // the tenant's sync lock lease (30 min, DEFAULT_SYNC_OPTIONS.lockTtlMs): a planner killed
    // mid-planning leaves the lock held, and the redelivery must find it expired rather than
    // be acknowledged as "a run is in progress" (test/unit/sync-request.test.ts checks both).
    visibilityTimeoutSeconds: 40 * 60,
    // One retry: a request whose planning fails twice goes to the DLQ (and its alarm); the
    // failed runs say why. Planning again and again would only repeat the same reads.
    maxReceiveCount: 2,
    retentionSeconds: 1 * 24 * 3600,
    dlqRetentionSeconds: 14 * 24 * 3600,
  },
  sync: {
    name: 'sync',
    description: 'Sync batches fanned out by the planner, applied to NetEase by the sync worker.',
    visibilityTimeoutSeconds: 6 * 60,
    maxReceiveCount: 5,
    retentionSeconds: 4 * 24 * 3600,
    dlqRetentionSeconds: 14 * 24 * 3600,
  },
  callback: {
    name: 'callback',
    description: 'Verified DingTalk / WeCom contact events, acknowledged and waiting to be applied.',
    visibilityTimeoutSeconds: 3 * 60,
    maxReceiveCount: 5,
    retentionSeconds: 4 * 24 * 3600,
    dlqRetentionSeconds: 14 * 24 * 3600,
  },
  notify: {
    name: 'notify',
    description: 'New-mail detection batches and notifications to send.',
    visibilityTimeoutSeconds: 3 * 60,
    maxReceiveCount: 3,
    retentionSeconds: 1 * 24 * 3600,
    dlqRetentionSeconds: 14 * 24 * 3600,
  },
};

export type FunctionName =
  | 'console'
  | 'alerts'
  | 'sso'
  | 'unread'
  | 'dingtalkCallback'
  | 'wecomCallback'
  | 'admin'
  | 'syncPlanner'
  | 'syncWorker'
  | 'callbackWorker'
  | 'notifyPlanner'
  | 'notifyWorker';

export interface FunctionSpec {
  name: FunctionName;
  /** Handler module, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** Table access this function needs. */
  table: 'read' | 'readwrite';
  /** Secret kinds it reads (granted for every tenant). */
  secrets: readonly SecretKind[];
  /** Queues it sends to. */
  sendsTo: readonly QueueName[];
  /** Queue it consumes, through an event source mapping with partial batch failures. */
  consumes?: { queue: QueueName; batchSize: number; maxBatchingWindowSeconds: number; maxConcurrency?: number };
  /** May write secrets (key generation through the admin route). */
  writesSecrets?: readonly SecretKind[];
  /**
   * Queue operations: `read` = the depth of every queue and DLQ (DLQ_URL_<Q> and
   * QUEUE_URL_<Q> set); `redrive` = also move DLQ messages back to their queue.
   */
  deadLetters?: 'read' | 'redrive';
  /** Reads the deployment secret (console session and break-glass keys). */
  readsDeploymentSecret?: boolean;
  /** Publishes to the alarm topic (ALARM_TOPIC_ARN). */
  publishesAlarms?: boolean;
}

export const FUNCTIONS: Record<FunctionName, FunctionSpec> = {
  console: {
    name: 'console',
    entry: 'functions/http/console/handler.ts',
    description: 'Operator console (server-rendered pages): tenants, runs, approvals, sync now, mappings, DLQ redrive, audit log.',
    memoryMb: 512,
    timeoutSeconds: 29,
    table: 'readwrite', // sessions, audit log, sign-in nonces, run decisions
    // oa: signs the OAuth state and OA console links; dingtalk/wecom: sign-in and token checks;
    // netease: approvals apply nothing here (the worker does) but explain reads the source.
    secrets: ['oa', 'dingtalk', 'wecom', 'ekp', 'netease', 'alerts'],
    // plan: sync now; sync: an approval fans the parked run's batches out; callback: a rejection's follow-up.
    sendsTo: ['plan', 'sync', 'callback'],
    deadLetters: 'redrive',
    readsDeploymentSecret: true,
  },
  alerts: {
    name: 'alerts',
    entry: 'functions/schedule/alerts/handler.ts',
    description: 'Scheduled: alerts tenant admins (DingTalk, WeCom, group robot) and the alarm topic about parked, failed and stuck runs, dead letters and silent callbacks.',
    memoryMb: 256,
    timeoutSeconds: 50,
    table: 'readwrite', // alert dedup records
    secrets: ['dingtalk', 'wecom', 'alerts'],
    sendsTo: [],
    deadLetters: 'read',
    publishesAlarms: true,
  },
  sso: {
    name: 'sso',
    entry: 'functions/http/sso/handler.ts',
    description: 'Single sign-on: OA link, CAS, DingTalk and WeCom identities -> signed NetEase entry redirect.',
    memoryMb: 512,
    timeoutSeconds: 10,
    table: 'readwrite', // nonces are written once with a TTL
    secrets: ['netease', 'oa', 'dingtalk', 'wecom'],
    sendsTo: [],
  },
  unread: {
    name: 'unread',
    entry: 'functions/http/unread/handler.ts',
    description: 'Unread count JSON and the OA portal widget.',
    memoryMb: 256,
    timeoutSeconds: 10,
    table: 'readwrite', // short per-user cache
    secrets: ['netease', 'oa'],
    sendsTo: [],
  },
  dingtalkCallback: {
    name: 'dingtalkCallback',
    entry: 'functions/http/dingtalk-callback/handler.ts',
    description: 'DingTalk encrypted contact callbacks: verify, acknowledge, enqueue.',
    memoryMb: 256,
    timeoutSeconds: 5,
    table: 'readwrite', // event dedup
    secrets: ['dingtalk'],
    sendsTo: ['callback'],
  },
  wecomCallback: {
    name: 'wecomCallback',
    entry: 'functions/http/wecom-callback/handler.ts',
    description: 'WeCom URL verification and encrypted change_contact callbacks: verify, acknowledge, enqueue.',
    memoryMb: 256,
    timeoutSeconds: 5,
    table: 'readwrite',
    secrets: ['wecom'],
    sendsTo: ['callback'],
  },
  admin: {
    name: 'admin',
    entry: 'functions/http/admin/handler.ts',
    description: 'Admin API (IAM-authorized): tenants, keys, sync runs, approvals, mappings.',
    memoryMb: 512,
    timeoutSeconds: 29,
    table: 'readwrite',
    // ekp, dingtalk, wecom: `links pull` reads the source's people and each channel's directory.
    secrets: ['netease', 'ekp', 'dingtalk', 'wecom'],
    writesSecrets: ['netease'],
    // plan: on-demand runs are planned by the sync planner, not in this 29 s function.
    // callback: the follow-up of a run it ends (reject, import) for waiting contact events.
    sendsTo: ['plan', 'sync', 'callback'],
  },
  syncPlanner: {
    name: 'syncPlanner',
    entry: 'functions/schedule/sync-planner/handler.ts',
    description: 'Scheduled, and on demand from the plan queue: plans a tenant\'s incremental (or full) sync and fans batches out to the sync queue.',
    memoryMb: 1024,
    timeoutSeconds: 300,
    table: 'readwrite',
    secrets: ['netease', 'ekp', 'dingtalk', 'wecom'],
    // callback: the follow-up drain of a run it ends at once (empty plan, failure) or sweeps.
    sendsTo: ['sync', 'callback'],
    // On-demand runs (admin API, CLI), one request per invocation: a full plan may take
    // minutes. Two at a time (Lambda's minimum); runs of one tenant never overlap anyway (lock).
    consumes: { queue: 'plan', batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 2 },
  },
  syncWorker: {
    name: 'syncWorker',
    entry: 'functions/queue/sync-worker/handler.ts',
    description: 'Applies sync batches to NetEase idempotently and records mappings and results.',
    memoryMb: 512,
    timeoutSeconds: 60,
    table: 'readwrite',
    secrets: ['netease'],
    // callback: the run that ends sends the follow-up drain of contact events that waited for it.
    sendsTo: ['sync', 'callback'],
    // batchSize 2 so a full batch fits the 60 s timeout with room to spare. A record is one
    // stored batch of up to 25 operations (SyncOptions.batchSize), applied at this worker's
    // share of the tenant's NetEase rate: the default 20 req/s over maxConcurrency 5 = 4 req/s.
    // 2 records x 25 ops / 4 req/s = 12.5 s at one call per operation, 25 s at two (a create
    // whose answer was lost and is looked up, a unit move). 10 records took 62.5 s even at one
    // call each: every full invocation timed out and all its records came back after the
    // 6-minute visibility timeout. Slower tenants are covered by the worker's deadline guard
    // (functions/queue/sync-worker/handler.ts: no record starts with less than 25 s left).
    consumes: { queue: 'sync', batchSize: 2, maxBatchingWindowSeconds: 1, maxConcurrency: 5 },
  },
  callbackWorker: {
    name: 'callbackWorker',
    entry: 'functions/queue/callback-worker/handler.ts',
    description: 'Re-reads the objects named by contact events from the source and applies them through the sync path.',
    memoryMb: 512,
    timeoutSeconds: 30,
    table: 'readwrite',
    // ekp: a linked channel's events re-link people against the source's people (an EKP read).
    secrets: ['netease', 'ekp', 'dingtalk', 'wecom'],
    // callback: drains of its own backlog (a run that left objects for the next one).
    sendsTo: ['sync', 'callback'],
    consumes: { queue: 'callback', batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 5 },
  },
  notifyPlanner: {
    name: 'notifyPlanner',
    entry: 'functions/schedule/notify-planner/handler.ts',
    description: 'Scheduled: fans out new-mail checks for the people of tenants with notifications enabled.',
    memoryMb: 512,
    timeoutSeconds: 120,
    table: 'readwrite',
    secrets: ['dingtalk', 'wecom'], // checks the channel secret exists before fanning a tenant out
    sendsTo: ['notify'],
  },
  notifyWorker: {
    name: 'notifyWorker',
    entry: 'functions/queue/notify-worker/handler.ts',
    description: 'Polls NetEase received-mail logs per person and sends DingTalk / WeCom new-mail notifications.',
    memoryMb: 512,
    timeoutSeconds: 60,
    table: 'readwrite',
    secrets: ['netease', 'oa', 'dingtalk', 'wecom'],
    sendsTo: [],
    consumes: { queue: 'notify', batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 2 },
  },
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'ANY';

export interface RouteSpec {
  method: HttpMethod;
  /** API Gateway v2 route path, with `{param}` and `{proxy+}`. */
  path: string;
  fn: FunctionName;
  auth: 'none' | 'iam';
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/sso/{tenant}', fn: 'sso', auth: 'none' },
  { method: 'GET', path: '/unread/{tenant}', fn: 'unread', auth: 'none' },
  { method: 'GET', path: '/unread/{tenant}/widget', fn: 'unread', auth: 'none' },
  // Without {channel}: the tenant's top-level dingtalk / wecom app. With it: an extra channel
  // (`channels[].id`), one URL per DingTalk org / WeCom corp, each verified with its own keys.
  { method: 'POST', path: '/callbacks/dingtalk/{tenant}', fn: 'dingtalkCallback', auth: 'none' },
  { method: 'POST', path: '/callbacks/dingtalk/{tenant}/{channel}', fn: 'dingtalkCallback', auth: 'none' },
  { method: 'GET', path: '/callbacks/wecom/{tenant}', fn: 'wecomCallback', auth: 'none' },
  { method: 'POST', path: '/callbacks/wecom/{tenant}', fn: 'wecomCallback', auth: 'none' },
  { method: 'GET', path: '/callbacks/wecom/{tenant}/{channel}', fn: 'wecomCallback', auth: 'none' },
  { method: 'POST', path: '/callbacks/wecom/{tenant}/{channel}', fn: 'wecomCallback', auth: 'none' },
  { method: 'ANY', path: '/admin/{proxy+}', fn: 'admin', auth: 'iam' },
  // The console authenticates people itself (tenant identity or break-glass link): browsers cannot sign IAM requests.
  { method: 'ANY', path: '/console', fn: 'console', auth: 'none' },
  { method: 'ANY', path: '/console/{proxy+}', fn: 'console', auth: 'none' },
];

/** The function behind the Lambda Function URL the OA links to. Paths: `/sso/<tenant>`. */
export const FUNCTION_URL_FN: FunctionName = 'sso';

export interface ScheduleSpec {
  fn: FunctionName;
  /** Minutes between runs. */
  rateMinutes: number;
  description: string;
}

/**
 * Schedules shared by every tenant. The new-mail planner runs every minute and also queues
 * a second, 30 s delayed poll (SQS DelaySeconds), so a mail waits at most ~30 s for its
 * poll with no Lambda kept running (use-cases/notify/plan-notifications.ts).
 * The directory sync has one schedule per tenant instead: {@link tenantSyncSchedules}.
 */
export const SCHEDULES: readonly ScheduleSpec[] = [
  { fn: 'notifyPlanner', rateMinutes: 1, description: 'New-mail checks for tenants with notifications enabled (plus a 30 s delayed second poll).' },
  // Every minute, so a parked run reaches its admins within a minute.
  { fn: 'alerts', rateMinutes: 1, description: 'Console alerts: parked, failed and stuck runs, dead letters, silent callbacks.' },
];

/** Default minutes between EKP incremental runs (cdk context `syncRateMinutes`, local `QIYE_SYNC_RATE_MINUTES`). */
export const DEFAULT_INCREMENTAL_MINUTES = 15;

/** One tenant's scheduled sync: a full run on a cron in the tenant's zone, or incremental runs every N minutes. */
export interface TenantSyncSchedule {
  /** Unique per deployment, usable in resource names: `<tenant>-full` / `<tenant>-incremental`. */
  name: string;
  tenantId: string;
  kind: 'full' | 'incremental';
  /** Full runs: 5-field cron in `timezone` (shared/domain/cron.ts). */
  cron?: string;
  /** Incremental runs: minutes between runs. */
  rateMinutes?: number;
  timezone: string;
  description: string;
}

/** The input every tenant schedule sends to the sync planner (its handler tells it by `schedule`). */
export interface TenantScheduleEvent {
  source: 'schedule';
  schedule: 'tenantSync';
  tenantId: string;
  kind: 'full' | 'incremental';
}

/**
 * Every tenant's sync schedules, from its config (`sync.schedule`): the one definition the
 * CDK stack (EventBridge Scheduler, or rules in UTC) and the local scheduler both follow.
 * Callback sources (DingTalk, WeCom) get the full run only; EKP also gets incremental runs.
 */
export function tenantSyncSchedules(tenants: readonly TenantConfig[], opts: { incrementalMinutes?: number } = {}): TenantSyncSchedule[] {
  const out: TenantSyncSchedule[] = [];
  for (const t of tenants) {
    const source = t.sync.source;
    if (!t.sync.enabled || !source) continue;
    const s = t.sync.schedule;
    out.push({ name: `${t.id}-full`, tenantId: t.id, kind: 'full', cron: s.fullCron, timezone: s.timezone, description: `Full ${source} sync of ${t.id} (cron ${s.fullCron}, ${s.timezone}).` });
    if (source === 'ekp') {
      const rateMinutes = s.incrementalMinutes ?? opts.incrementalMinutes ?? DEFAULT_INCREMENTAL_MINUTES;
      out.push({ name: `${t.id}-incremental`, tenantId: t.id, kind: 'incremental', rateMinutes, timezone: s.timezone, description: `Incremental ekp sync of ${t.id} every ${rateMinutes} minute(s).` });
    }
  }
  return out;
}

export function tenantScheduleEvent(s: Pick<TenantSyncSchedule, 'tenantId' | 'kind'>): TenantScheduleEvent {
  return { source: 'schedule', schedule: 'tenantSync', tenantId: s.tenantId, kind: s.kind };
}

export function queueName(stage: string, q: QueueName, dlq = false): string {
  return `qiye-bridge-${stage}-${q}${dlq ? '-dlq' : ''}`;
}

/** Environment variable naming a queue's dead-letter queue URL (functions with `deadLetters`). */
export function dlqUrlEnv(q: QueueName): string {
  return `DLQ_URL_${q.toUpperCase()}`;
}

/** Environment variable naming a queue's URL in every function that sends to it. */
export function queueUrlEnv(q: QueueName): string {
  return `QUEUE_URL_${q.toUpperCase()}`;
}
