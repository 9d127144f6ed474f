/**
 * Operator commands of the directory sync: `sync run|approve|reject|abandon|clear-watermark`,
 * `runs list|show`, `mappings list|import`, `explain`.
 *
 * One code path: every command is a request to the admin API's sync routes
 * (functions/http/admin/sync.routes.ts), which call the sync use cases.
 * - Stage "local": HTTP to the running local stack's gateway (http://127.0.0.1:$QIYE_PORT,
 *   default 3000; QIYE_ADMIN_URL overrides), which authorizes loopback callers.
 * - Any other stage: the same routes in-process, wired to that stage's DynamoDB table, SQS
 *   queues and Secrets Manager in the current AWS account (credentials from the usual AWS
 *   chain). We do not sign HTTP requests with SigV4 here: that needs @smithy/signature-v4,
 *   which is not a declared dependency.
 *
 * Runs are planned by the deployed sync planner in both cases, never in the CLI: `sync run`
 * (and `sync reject --replan`) queue a request on the stage's `plan` queue, exactly as the
 * admin route does, and `--wait` follows the request to its run. So a long full run is
 * planned within the planner's limits (300 s, 1 GB) from the deployment's network (its
 * static egress IPs, which NetEase and WeCom allow-list), the operator's machine needs no
 * route to EKP or NetEase and may disconnect, and the CLI needs sqs:SendMessage on the plan
 * queue, not the vendors' secrets.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { ValidationError, AppError } from '../../shared/errors/app-error';
import type { RunRecord } from '../../shared/ports/run-store';
import type { ObjectNote } from '../../shared/domain/sync-plan';
import { describeProgress, type RunProgress } from '../../shared/use-cases/sync/recover-runs';
import type { SyncRequestStatus } from '../../shared/use-cases/sync/request-sync-run';
import type { CliContext } from '../context';
import { tenantCommand, type Command, type CommandArgs } from './command';

// ---------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------

export interface AdminResponse {
  status: number;
  text: string;
  /** Parsed JSON, when the answer is JSON. */
  json?: any;
}

export type AdminTransport = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<AdminResponse>;

/** Tests replace the transport (e.g. to point at a stack on random ports). */
let transportOverride: ((ctx: CliContext) => AdminTransport) | undefined;
export function setAdminTransportForTests(factory: ((ctx: CliContext) => AdminTransport) | undefined): void {
  transportOverride = factory;
}

function operator(): string {
  try {
    return userInfo().username.slice(0, 64) || 'cli';
  } catch {
    return 'cli';
  }
}

function httpTransport(baseUrl: string): AdminTransport {
  return async (method, path, body) => {
    let res: Response;
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/csv' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new AppError('CLI.STACK_UNREACHABLE', `Cannot reach the admin API at ${baseUrl} (${(err as Error).message}). Is the local stack running (npm start)?`, { expose: true, status: 503 });
    }
    const text = await res.text();
    let json: unknown;
    if ((res.headers.get('content-type') ?? '').includes('json')) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: res.status, text, json };
  };
}

/**
 * The deployed stage's routes in this process (see the module doc), on the admin function's
 * wiring for the stage (shared/wiring/stage.ts), registered as the admin handler does.
 */
async function inProcessTransport(ctx: CliContext): Promise<AdminTransport> {
  const [{ Router }, { registerWiredRoutes }, { stageWiringFor }, { errorResponse }] = await Promise.all([
    import('../../shared/http/router'),
    // Sync and runs, identity links (links list | import | explain | pull) and usage share the transport.
    import('../../functions/http/admin/wired.routes'),
    import('../context'),
    import('../../shared/http/http-handler'),
  ]);
  const wiring = await stageWiringFor(ctx);
  const logger = wiring.rt.logger;
  const router = new Router();
  registerWiredRoutes(router, wiring);
  return async (method, path, body) => {
    const [rawPath, rawQueryString = ''] = path.split('?');
    const event = {
      version: '2.0',
      routeKey: 'ANY /admin/{proxy+}',
      rawPath: rawPath!,
      rawQueryString,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { http: { method, path: rawPath }, requestId: `cli-${Date.now()}`, authorizer: { iam: { userArn: `cli:${operator()}` } } },
    } as never;
    let result;
    try {
      result = await router.handle(event);
    } catch (err) {
      result = errorResponse(err, event, undefined, { logger });
    }
    const text = typeof result.body === 'string' ? result.body : '';
    const type = String((result.headers as Record<string, string> | undefined)?.['content-type'] ?? '');
    return { status: result.statusCode ?? 200, text, ...(type.includes('json') ? { json: JSON.parse(text) } : {}) };
  };
}

/** Built once per command: `--wait` polls, and the in-process transport resolves queue URLs. */
const inProcessTransports = new WeakMap<CliContext, Promise<AdminTransport>>();

async function transportFor(ctx: CliContext): Promise<AdminTransport> {
  if (transportOverride) return transportOverride(ctx);
  if (ctx.isLocal) return httpTransport(process.env.QIYE_ADMIN_URL ?? `http://127.0.0.1:${process.env.QIYE_PORT ?? 3000}`);
  let t = inProcessTransports.get(ctx);
  if (!t) {
    t = inProcessTransport(ctx);
    inProcessTransports.set(ctx, t);
    t.catch(() => inProcessTransports.delete(ctx));
  }
  return t;
}

/** Call a route and return its JSON, or throw the API's error (code and message). */
export async function call(ctx: CliContext, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> {
  const res = await (await transportFor(ctx))(method, path, body);
  if (res.status >= 400) {
    const code = res.json?.error ?? `HTTP_${res.status}`;
    const message = res.json?.message ?? res.text.slice(0, 300);
    throw new AppError(code, message, { status: res.status, expose: true });
  }
  return res.json ?? res.text;
}

const base = (tenant: string) => `/admin/tenants/${encodeURIComponent(tenant)}`;

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

const COUNT_ORDER = ['fetched', 'created', 'updated', 'moved', 'suspended', 'recovered', 'deleted', 'linked', 'skipped', 'failed', 'drifted', 'repaired'] as const;

export function formatCounts(c: RunRecord['counts']): string {
  return COUNT_ORDER.map((k) => `${k} ${c[k] ?? 0}`).join(', ');
}

function duration(run: RunRecord): string {
  const ms = (run.endedAt ?? Date.now()) - run.startedAt;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function progressLine(run: RunRecord): string {
  const batches = run.totalBatches > 0 ? `batches ${run.completedBatches}/${run.totalBatches}` : 'batches -';
  return `${run.runId} ${run.status}: ${batches}; ${formatCounts(run.counts)} (${duration(run)})`;
}

function runLine(run: RunRecord): string {
  const started = new Date(run.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  return `${run.runId}  ${started}  ${run.trigger.padEnd(8)} ${run.mode.padEnd(11)} ${run.status.padEnd(17)} ${duration(run).padStart(7)}  ${formatCounts(run.counts)}`;
}

/** Exit codes of `sync run --wait` and `runs show`: scripts can tell the outcomes apart. */
export function exitCodeFor(status: RunRecord['status']): number {
  switch (status) {
    case 'success':
    case 'dry_run':
      return 0;
    case 'warning':
      return 3;
    case 'awaiting_approval':
      return 4;
    default:
      return 1;
  }
}

function printRunDetail(
  ctx: CliContext,
  detail: { run: RunRecord; errors: Array<Record<string, unknown>>; errorsTruncated: boolean; destructive?: Array<Record<string, unknown>>; progress?: RunProgress; dataNotes?: ObjectNote[]; dataNotesTruncated?: boolean },
): void {
  const { run } = detail;
  const s = run.summary as { plan?: { operations: number; apiCalls: number; phases: number }; approval?: { reasons: string[] }; notes?: Record<string, number> } | undefined;
  ctx.out(`Run ${run.runId} (tenant ${run.tenantId}, ${run.source ?? 'source?'}, ${run.mode}, ${run.trigger}${run.dryRun ? ', dry run' : ''})`);
  ctx.out(`  status    ${run.status}${run.error ? ` (${run.error.code}: ${run.error.message})` : ''}`);
  ctx.out(`  started   ${new Date(run.startedAt).toISOString()}${run.endedAt ? `, ended ${new Date(run.endedAt).toISOString()} (${duration(run)})` : ''}`);
  ctx.out(`  counts    ${formatCounts(run.counts)}`);
  if (s?.plan) ctx.out(`  plan      ${s.plan.operations} operations, ${s.plan.apiCalls} NetEase calls, ${s.plan.phases} phases; batches ${run.completedBatches}/${run.totalBatches}`);
  if (s?.notes && Object.keys(s.notes).length > 0) ctx.out(`  notes     ${Object.entries(s.notes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (detail.progress && (run.status === 'planning' || run.status === 'applying')) ctx.out(`  progress  ${describeProgress(detail.progress)}`);
  if (run.recovery) ctx.out(`  recovery  taken over ${run.recovery.takeovers} time(s), last at ${new Date(run.recovery.at).toISOString()} (${run.recovery.action}${run.recovery.resent !== undefined ? ` ${run.recovery.resent} batches` : ''})`);
  if (detail.dataNotes && detail.dataNotes.length > 0) {
    ctx.out(`  source data problems (${detail.dataNotes.length}${detail.dataNotesTruncated ? '+' : ''}):`);
    for (const n of detail.dataNotes) ctx.out(`    ${n.type.padEnd(10)} ${n.sourceId.padEnd(34)} ${n.code}: ${n.detail}`);
  }
  if (run.decision) ctx.out(`  decision  ${run.decision.decision} by ${run.decision.by} at ${new Date(run.decision.at).toISOString()}${run.decision.note ? `: ${run.decision.note}` : ''}`);
  if (s?.approval) {
    ctx.out('  awaiting approval because:');
    for (const r of s.approval.reasons) ctx.out(`    - ${r}`);
  }
  if (detail.destructive && detail.destructive.length > 0) {
    ctx.out(`  would suspend or delete (${detail.destructive.length}):`);
    for (const d of detail.destructive) ctx.out(`    ${String(d.kind).padEnd(15)} ${String(d.name).padEnd(24)} source ${String(d.sourceId)}${d.reason ? ` (${String(d.reason)})` : ''}`);
    ctx.out(`  approve: npx qiye-bridge sync approve --tenant ${run.tenantId} --run ${run.runId}`);
    ctx.out(`  reject:  npx qiye-bridge sync reject --tenant ${run.tenantId} --run ${run.runId} [--replan]`);
  }
  const drift = (run.summary as { drift?: { objects: number; repair: string; items: Array<Record<string, string>> } } | undefined)?.drift;
  if (drift) {
    ctx.out(`  drift     ${drift.objects} object(s) differed from NetEase (${drift.repair === 'planned' ? `repair; ${run.counts.repaired} repaired` : 'report mode: not repaired'}):`);
    for (const i of drift.items) ctx.out(`    ${String(i.type).padEnd(10)} ${String(i.sourceId).padEnd(24)} ${String(i.name).padEnd(20)} ${String(i.kind).padEnd(8)} NetEase: ${i.before} -> ${i.after}`);
    if (drift.items.length < drift.objects) ctx.out('    (first items only; the plan document lists every one)');
  }
  const unresolved = (run.summary as { unresolved?: { count: number; items: Array<Record<string, string>> } } | undefined)?.unresolved;
  if (unresolved) {
    ctx.out(`  unresolved (${unresolved.count}): the run ends warning until these are fixed`);
    for (const u of unresolved.items) ctx.out(`    ${String(u.type).padEnd(10)} ${String(u.sourceId).padEnd(24)} ${u.why}`);
  }
  if (detail.errors.length > 0) {
    ctx.out(`  errors (${detail.errors.length}${detail.errorsTruncated ? '+, see --csv' : ''}):`);
    for (const e of detail.errors) ctx.out(`    ${String(e.objectType).padEnd(10)} ${String(e.sourceId).padEnd(34)} ${String(e.operation).padEnd(16)} ${String(e.errorCode ?? '')}: ${String(e.message ?? '')}`);
  }
}

/**
 * Wait until the planner has taken a queued request and its run exists.
 * @throws AppError SYNC.RUN_IN_PROGRESS when the planner skipped it (another run held the
 *   tenant), or the request's error when it was refused.
 */
async function waitForStart(ctx: CliContext, tenant: string, requestId: string, intervalMs = 500): Promise<{ runId: string; run?: RunRecord }> {
  let last = '';
  for (;;) {
    const r = (await call(ctx, 'GET', `${base(tenant)}/sync/requests/${encodeURIComponent(requestId)}`)) as SyncRequestStatus; // what GET .../sync/requests/:id answers
    if (r.status === 'started' && r.runId) return { runId: r.runId, ...(r.run ? { run: r.run } : {}) };
    if (r.status === 'skipped') throw new AppError('SYNC.RUN_IN_PROGRESS', `request ${requestId} was not started: ${r.reason ?? `a run is in progress: ${r.runId ?? 'unknown'}`}`, { status: 409, expose: true });
    if (r.status === 'failed') throw new AppError(r.error?.code ?? 'SYNC.REQUEST_FAILED', `request ${requestId} failed: ${r.error?.message ?? 'no reason recorded'}`, { status: 500, expose: true });
    if (r.status !== last) ctx.out(`Request ${requestId}: ${r.status === 'queued' ? 'queued for the sync planner' : 'the planner is starting it'}...`);
    last = r.status;
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

async function waitForRun(ctx: CliContext, tenant: string, runId: string, intervalMs = 500): Promise<RunRecord> {
  const tty = process.stdout.isTTY === true && !process.env.CI;
  let last = '';
  for (;;) {
    const { run } = (await call(ctx, 'GET', `${base(tenant)}/runs/${encodeURIComponent(runId)}`)) as { run: RunRecord };
    const line = progressLine(run);
    const done = !['planning', 'applying'].includes(run.status);
    if (tty) {
      // Refresh one line in place.
      process.stdout.write(`\r\x1b[2K${line}${done ? '\n' : ''}`);
    } else if (line.replace(/\(\d.*\)$/, '') !== last.replace(/\(\d.*\)$/, '')) {
      ctx.out(line);
    }
    last = line;
    if (done) return run;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

export const syncRun = tenantCommand({
  name: 'sync run',
  summary: 'Queue a sync run for a tenant (incremental unless --full); --wait shows progress until it ends.',
  args: '[--full] [--dry-run] [--wait]',
  notes: [
    'The run is planned by the sync planner (the request is queued); without --wait the command returns at once.',
    '--dry-run waits for the plan and prints it; nothing is applied.',
    'Full runs link (adopt) existing NetEase units and mailboxes that match source objects instead of creating them.',
    'Exit codes with --wait: 0 success (or dry run), 3 warning (some objects failed), 4 awaiting approval, 1 failed or not started.',
  ],
  async run({ values, tenantId: tenant }, ctx) {
    const dryRun = values['dry-run'] === true;
    const body = { mode: values.full ? 'full' : 'incremental', ...(dryRun ? { dryRun: true } : {}) };
    const accepted = (await call(ctx, 'POST', `${base(tenant)}/sync`, body)) as { requestId: string; status: string; mode: string };
    if (!values.wait && !dryRun) {
      ctx.out(`Sync of ${tenant} requested (${accepted.mode}): request ${accepted.requestId}, ${accepted.status}.`);
      ctx.out(`The run appears in: npx qiye-bridge runs list --tenant ${tenant}  (or add --wait to follow it)`);
      return 0;
    }
    const started = await waitForStart(ctx, tenant, accepted.requestId);
    const first = started.run;
    ctx.out(`Run ${started.runId} started (${first?.mode ?? accepted.mode}${dryRun ? ', dry run' : ''}): ${first?.status ?? 'planning'}`);
    const ended = values.wait ? await waitForRun(ctx, tenant, started.runId) : await waitQuietly(ctx, tenant, started.runId);
    // What a dry run would do, and what a parked run waits to do.
    if (ended.dryRun || ended.status === 'awaiting_approval') ctx.out(String(await call(ctx, 'GET', `${base(tenant)}/runs/${encodeURIComponent(ended.runId)}/plan`)).replace(/\n$/, ''));
    if (!values.wait) return exitCodeFor(ended.status);
    const detail = await call(ctx, 'GET', `${base(tenant)}/runs/${encodeURIComponent(ended.runId)}`);
    printRunDetail(ctx, detail);
    return exitCodeFor(ended.status);
  },
});

/** A dry run without --wait: no progress lines, just its end (it applies nothing, so it is quick). */
async function waitQuietly(ctx: CliContext, tenant: string, runId: string, intervalMs = 300): Promise<RunRecord> {
  for (;;) {
    const { run } = (await call(ctx, 'GET', `${base(tenant)}/runs/${encodeURIComponent(runId)}`)) as { run: RunRecord };
    if (!['planning', 'applying'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An operator's decision on a parked run, signed with the operator's name and the optional --note. */
function decideRun(ctx: CliContext, tenant: string, runId: string, decision: 'approve' | 'reject', values: CommandArgs['values'], extra: Record<string, unknown> = {}): Promise<unknown> {
  return call(ctx, 'POST', `${base(tenant)}/runs/${encodeURIComponent(runId)}/${decision}`, { by: operator(), ...(values.note ? { note: values.note } : {}), ...extra });
}

export const syncApprove = tenantCommand({
  name: 'sync approve',
  summary: 'Approve a run parked for approval (too many suspensions/deletions): apply exactly its stored plan.',
  args: '[--note <text>] [--wait]',
  takesRun: true,
  async run({ values, tenantId: tenant, runId }, ctx) {
    const { run } = (await decideRun(ctx, tenant, runId, 'approve', values)) as { run: RunRecord };
    ctx.out(`Run ${run.runId} approved: ${run.status}`);
    if (!values.wait) return 0;
    return exitCodeFor((await waitForRun(ctx, tenant, run.runId)).status);
  },
});

export const syncReject = tenantCommand({
  name: 'sync reject',
  summary: 'Reject a parked run (nothing of it is applied); --replan queues a full run that withholds all deletions.',
  args: '[--note <text>] [--replan]',
  takesRun: true,
  async run({ values, tenantId: tenant, runId }, ctx) {
    const res = (await decideRun(ctx, tenant, runId, 'reject', values, values.replan ? { replan: true } : {})) as {
      run: RunRecord;
      replan?: { requestId: string; status: string };
    };
    ctx.out(`Run ${res.run.runId} rejected.`);
    if (res.replan) {
      ctx.out(`A full run without deletions is ${res.replan.status} (request ${res.replan.requestId}); it appears in: npx qiye-bridge runs list --tenant ${tenant}`);
    }
  },
});

export const syncAbandon = tenantCommand({
  name: 'sync abandon',
  summary: 'End a planning or applying run that is stuck (nothing it applied is undone) and free the tenant if that run holds it. Dead runs are also taken over automatically: see `runs show`.',
  takesRun: true,
  async run({ tenantId: tenant, runId }, ctx) {
    const res = (await call(ctx, 'POST', `${base(tenant)}/runs/${encodeURIComponent(runId)}/abandon`, { by: operator() })) as { run: RunRecord; released: boolean; heldBy?: string };
    ctx.out(`Run ${res.run.runId} abandoned (${res.run.error?.code ?? res.run.status}).`);
    ctx.out(res.released ? `The tenant is free: start a run with npx qiye-bridge sync run --tenant ${tenant} --full` : `The run did not hold the tenant${res.heldBy ? ` (held by ${res.heldBy})` : ''}; nothing else was released.`);
  },
});

export const syncClearWatermark = tenantCommand({
  name: 'sync clear-watermark',
  summary: "Forget the tenant's watermarks: the next run reads the whole source (mappings are kept).",
  async run({ tenantId: tenant }, ctx) {
    const { cleared } = (await call(ctx, 'DELETE', `${base(tenant)}/watermarks`)) as { cleared: number };
    ctx.out(cleared > 0 ? `Cleared ${cleared} watermark(s) of ${tenant}; the next run is a full one.` : `${tenant} had no watermark; the next run is a full one.`);
  },
});

export const runsList = tenantCommand({
  name: 'runs list',
  summary: "List a tenant's sync runs, newest first, with their counts.",
  args: '[--limit <n>] [--json]',
  async run({ values, tenantId: tenant }, ctx) {
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('--limit must be an integer from 1 to 1000.');
    const { runs } = (await call(ctx, 'GET', `${base(tenant)}/runs?limit=${limit}`)) as { runs: RunRecord[] };
    if (values.json) return void ctx.out(JSON.stringify(runs, null, 2));
    if (runs.length === 0) return void ctx.out(`No runs yet for ${tenant}.`);
    for (const r of runs) ctx.out(runLine(r));
  },
});

export const runsShow = tenantCommand({
  name: 'runs show',
  summary: 'Show one run: status, counts, plan, what awaits approval, and the failed/blocked objects (--csv: every result).',
  args: '<run-id> [--json | --csv]',
  requires: 'run id',
  async run({ values, argument: runId, tenantId: tenant }, ctx) {
    if (values.json && values.csv) throw new ValidationError('Choose one of --json and --csv.');
    const path = `${base(tenant)}/runs/${encodeURIComponent(runId)}`;
    if (values.csv) {
      const csv = (await call(ctx, 'GET', `${path}?format=csv`)) as string;
      ctx.out(csv.replace(/\r\n$/, ''));
      return 0;
    }
    const detail = await call(ctx, 'GET', path);
    if (values.json) ctx.out(JSON.stringify(detail, null, 2));
    else printRunDetail(ctx, detail);
    return 0;
  },
});

export const mappingsList = tenantCommand({
  name: 'mappings list',
  summary: 'List source id <-> NetEase id links (people by default).',
  args: '[--type person|department] [--limit <n>] [--json]',
  async run({ values, tenantId: tenant }, ctx) {
    const type = (values.type as string | undefined) ?? 'person';
    if (type !== 'person' && type !== 'department') throw new ValidationError('--type must be person or department.');
    const limit = values.limit === undefined ? Infinity : Number(values.limit);
    if (values.limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new ValidationError('--limit must be a positive integer.');
    const all: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const page = (await call(ctx, 'GET', `${base(tenant)}/mappings?type=${type}&limit=${Math.min(1000, limit === Infinity ? 1000 : limit - all.length)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)) as { mappings: Array<Record<string, unknown>>; cursor?: string };
      all.push(...page.mappings);
      cursor = page.cursor;
    } while (cursor && all.length < limit);
    if (values.json) return void ctx.out(JSON.stringify(all, null, 2));
    ctx.out(['sourceId', 'neteaseId', 'status', 'adopted', type === 'person' ? 'unitId' : 'name'].join('\t'));
    for (const m of all) ctx.out([m.sourceId, m.neteaseId, m.status, m.adopted ? 'yes' : 'no', type === 'person' ? m.unitId : m.name].join('\t'));
    ctx.out(`${all.length} ${type} mapping(s)`);
  },
});

/** The rows of a CSV file given as `--file`, without its header row when it is `header`. */
export async function readCsvRows(file: unknown, header: string): Promise<string[][]> {
  if (typeof file !== 'string') throw new ValidationError('--file <links.csv> is required.');
  const { parseCsv } = await import('../../shared/use-cases/sync/sync-util');
  let rows: string[][];
  try {
    rows = parseCsv(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  return rows[0] && rows[0].map((c) => c.trim().toLowerCase()).join(',') === header ? rows.slice(1) : rows;
}

export const mappingsImport = tenantCommand({
  name: 'mappings import',
  summary: 'Link source objects to existing NetEase objects from a CSV (sourceId,type,neteaseId); all rows are checked first, any problem writes nothing.',
  args: '--file links.csv',
  notes: [
    'CSV columns: sourceId,type (person|department),neteaseId (account name or unit id); a header row is optional.',
  ],
  async run({ values, tenantId: tenant }, ctx) {
    const rows = await readCsvRows(values.file, 'sourceid,type,neteaseid');
    const problems: string[] = [];
    const links = rows.map((r, i) => {
      if (r.length !== 3) problems.push(`line ${i + 1}: expected 3 columns (sourceId,type,neteaseId), found ${r.length}`);
      return { sourceId: (r[0] ?? '').trim(), type: (r[1] ?? '').trim().toLowerCase(), neteaseId: (r[2] ?? '').trim() };
    });
    if (problems.length > 0) throw new ValidationError(`${values.file} is not a link file; nothing was imported:\n${problems.slice(0, 20).map((p) => `  - ${p}`).join('\n')}`);
    if (links.length === 0) throw new ValidationError(`${values.file} has no rows.`);
    const res = (await call(ctx, 'POST', `${base(tenant)}/mappings/import`, { rows: links, by: operator() })) as { linked: number; replaced: number; unchanged: number };
    ctx.out(`Imported ${links.length} link(s) for ${tenant}: ${res.linked} new, ${res.replaced} replaced, ${res.unchanged} unchanged.`);
  },
});

export const explainCommand = tenantCommand({
  name: 'explain',
  summary: 'Explain one source object: its source record, mapping, the last plan decision and the NetEase results.',
  args: '<source-object-id> [--type person|department] [--no-source] [--json]',
  requires: 'source object id',
  async run({ values, argument: id, tenantId: tenant }, ctx) {
    const type = values.type as string | undefined;
    if (type !== undefined && type !== 'person' && type !== 'department') throw new ValidationError('--type must be person or department.');
    const q = new URLSearchParams();
    if (type) q.set('type', type);
    if (values['no-source']) q.set('source', 'false');
    const ex = await call(ctx, 'GET', `${base(tenant)}/explain/${encodeURIComponent(id)}${q.size > 0 ? `?${q}` : ''}`);
    if (values.json) return void ctx.out(JSON.stringify(ex, null, 2));
    ctx.out(`${ex.type ?? 'object'} ${id} (tenant ${tenant})`);
    const rec = ex.source?.record;
    if (ex.source?.read === 'skipped') ctx.out('  source     not read (--no-source)');
    else if (ex.source?.read === 'failed') ctx.out(`  source     could not be read (${ex.source.error})`);
    else if (!rec) ctx.out('  source     not found in the source (deleted, or never there)');
    else if (ex.type === 'department' || rec.departmentIds === undefined) ctx.out(`  source     department "${rec.name}", parent ${rec.parentId ?? '(root)'}, ${rec.status}`);
    else ctx.out(`  source     ${rec.displayName} (${rec.loginName ?? '-'}), ${rec.status}, departments ${rec.departmentIds.join(', ')}${rec.mainDepartmentId ? ` (main ${rec.mainDepartmentId})` : ''}`);
    const m = ex.mapping;
    ctx.out(m ? `  mapping    ${m.neteaseId} (${m.status}${m.adopted ? ', adopted' : ''}${m.unitId ? `, unit ${m.unitId}` : ''}${m.name ? `, unit name ${m.name}` : ''}${m.policyRule ? `, policy ${m.policyRule}` : ''}${m.rank !== undefined ? `, rank ${m.rank}` : ''}${m.mailList ? `, mailing list ${m.mailList}` : ''}${m.aliases ? `, aliases ${m.aliases.join(' ')}` : ''}), last written by ${m.lastRunId}` : '  mapping    none');
    const d = ex.decision;
    const n = ex.netease;
    if (n?.read === 'failed') ctx.out(`  netease    could not be read (${n.error})`);
    else if (n?.read === 'ok' && n.exists === false) ctx.out('  netease    does not exist in NetEase');
    else if (n?.read === 'ok') ctx.out(`  netease    ${ex.type === 'department' ? `unit "${n.name}", parent ${n.parentUnitId ?? '(top)'}` : `${n.status}${n.nickname ? `, nickname "${n.nickname}"` : ''}, unit ${n.unitId}`}`);
    for (const diff of n?.differences ?? []) ctx.out(`  drift      ${diff}`);
    if (d) {
      ctx.out(`  decision   run ${d.runId} (${d.runStatus}${d.parked ? ', parked' : ''}): ${d.decision}`);
    } else ctx.out('  decision   no stored plan');
    if (ex.history.length === 0) ctx.out('  results    none');
    for (const r of ex.history) ctx.out(`  result     ${r.runId} ${r.operation} ${r.outcome}${r.errorCode ? ` ${r.errorCode}` : ''}${r.message ? `: ${r.message}` : ''}${r.neteaseId ? ` -> ${r.neteaseId}` : ''}`);
  },
});

export const syncCommands: Command[] = [syncRun, syncApprove, syncReject, syncAbandon, syncClearWatermark, runsList, runsShow, mappingsList, mappingsImport, explainCommand];
