/**
 * Sync routes of the admin API (IAM-authorized; locally, loopback callers only), added to
 * the admin router through its `extend` hook. Each route parses its input with zod and
 * calls one sync use case; the CLI (`qiye-bridge sync ...`) talks to these routes.
 *
 * Runs are planned by the sync planner, never here: planning a full run can outlast this
 * function's 29 s (API Gateway's limit). Starting a run queues a request on the `plan` queue
 * and answers 202 `{requestId, status: 'queued'}` (request-sync-run.ts); the run appears in
 * the runs list, carrying `requestId`, once the planner starts it.
 *
 *   POST   /admin/tenants/:tenant/sync                    {mode?, dryRun?, adopt?}  queue a run: 202 (409 when one is in progress)
 *   GET    /admin/tenants/:tenant/sync/requests/:request                           queued | starting | started (with the run) | skipped | failed
 *   GET    /admin/tenants/:tenant/runs                    ?limit&cursor            runs, newest first
 *   GET    /admin/tenants/:tenant/runs/:run               ?format=csv              the run with its errors, or every result as CSV
 *   GET    /admin/tenants/:tenant/runs/:run/plan                                   the run's plan as text (dry runs, parked runs)
 *   POST   /admin/tenants/:tenant/runs/:run/approve       {note?, by?}             apply a parked run
 *   POST   /admin/tenants/:tenant/runs/:run/reject        {note?, by?, replan?}    reject it (replan: queue a full run without deletions: 202)
 *   POST   /admin/tenants/:tenant/runs/:run/abandon       {by?}                    end a planning/applying run; frees the tenant if that run holds it
 *   GET    /admin/tenants/:tenant/mappings                ?type&limit&cursor       source id <-> NetEase id links
 *   POST   /admin/tenants/:tenant/mappings/import         {rows:[{sourceId,type,neteaseId}]}  admin links (all or nothing)
 *   GET    /admin/tenants/:tenant/explain/:sourceId       ?type&source=false       source record, mapping, decision, results
 *   DELETE /admin/tenants/:tenant/watermarks                                       the next run is a full one
 *   GET    /admin/health                                                           200 ok, or 503 degraded with the stuck runs
 *                                                                                  (what the local stack's /health says of runs)
 */
import { z } from 'zod';
import { ValidationError } from '../../../shared/errors/app-error';
import type { HttpEvent } from '../../../shared/http/http-handler';
import { json, text } from '../../../shared/http/http-response';
import { singleQuery } from '../../../shared/http/query';
import { jsonBody, type Router } from '../../../shared/http/router';
import {
  abandonRun,
  approveRun,
  clearWatermarks,
  explainObject,
  findStuckRuns,
  syncedTenants,
  getRunDetail,
  importMappings,
  listMappings,
  listRuns,
  rejectRun,
  requestSyncRun,
  runPlanText,
  runResultsCsv,
  syncRequestStatus,
  type SyncDeps,
} from '../../../shared/use-cases/sync';

export interface SyncRoutesDeps {
  sync: SyncDeps;
}

const startBody = z.object({ mode: z.enum(['full', 'incremental']).optional(), dryRun: z.boolean().optional(), adopt: z.boolean().optional() }).strict();
const decisionBody = z.object({ note: z.string().max(500).optional(), by: z.string().min(1).max(100).optional(), replan: z.boolean().optional() }).strict();
const importBody = z
  .object({
    rows: z
      .array(z.object({ sourceId: z.string(), type: z.enum(['person', 'department']), neteaseId: z.string() }).strict())
      .min(1)
      .max(20_000),
    by: z.string().min(1).max(100).optional(),
  })
  .strict();
const pageQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional(), cursor: z.string().min(1).optional() });

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(`Invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  return r.data;
}

function requestPath(tenant: string, requestId: string): string {
  return `/admin/tenants/${encodeURIComponent(tenant)}/sync/requests/${encodeURIComponent(requestId)}`;
}

/** Who decided: the IAM principal of the request, plus the operator name the CLI sends. */
function principal(e: HttpEvent, declared: string | undefined): string {
  const arn = (e.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer?.iam?.userArn ?? 'admin-api';
  return declared ? `${arn} (${declared})` : arn;
}

export function registerSyncRoutes(router: Router, deps: SyncRoutesDeps): void {
  const { sync } = deps;
  router
    .on('GET', '/admin/health', async () => {
      const ids = syncedTenants(sync.tenants()).map((t) => t.id);
      const stuck = await findStuckRuns(sync, ids);
      return json(stuck.length === 0 ? 200 : 503, { status: stuck.length === 0 ? 'ok' : 'degraded', checks: { runs: { tenants: ids.length, stuck } } });
    })
    .on('POST', '/admin/tenants/:tenant/sync', async (e, p) => {
      const b = parse(startBody, jsonBody(e), 'sync request');
      const accepted = await requestSyncRun(sync, { tenantId: p.tenant!, trigger: 'manual', ...b });
      return json(202, accepted, { location: requestPath(p.tenant!, accepted.requestId) });
    })
    .on('GET', '/admin/tenants/:tenant/sync/requests/:request', async (_e, p) => {
      return json(200, await syncRequestStatus(sync, p.tenant!, p.request!));
    })
    .on('GET', '/admin/tenants/:tenant/runs', async (e, p) => {
      const q = parse(pageQuery, singleQuery(e), 'query');
      const page = await listRuns(sync, p.tenant!, q);
      return json(200, { runs: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) });
    })
    .on('GET', '/admin/tenants/:tenant/runs/:run', async (e, p) => {
      const q = singleQuery(e);
      if (q.format === 'csv') {
        const lines: string[] = [];
        for await (const line of runResultsCsv(sync, p.tenant!, p.run!)) lines.push(line);
        return text(200, `${lines.join('\r\n')}\r\n`, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${p.run}.csv"` });
      }
      if (q.format !== undefined && q.format !== 'json') throw new ValidationError('format must be json or csv');
      return json(200, await getRunDetail(sync, p.tenant!, p.run!));
    })
    .on('GET', '/admin/tenants/:tenant/runs/:run/plan', async (_e, p) => {
      return text(200, `${await runPlanText(sync, p.tenant!, p.run!)}\n`, { 'content-type': 'text/plain; charset=utf-8' });
    })
    .on('POST', '/admin/tenants/:tenant/runs/:run/approve', async (e, p) => {
      const b = parse(decisionBody.omit({ replan: true }), jsonBody(e), 'approval');
      const run = await approveRun(sync, { tenantId: p.tenant!, runId: p.run!, by: principal(e, b.by), ...(b.note ? { note: b.note } : {}) });
      return json(200, { run });
    })
    .on('POST', '/admin/tenants/:tenant/runs/:run/reject', async (e, p) => {
      const b = parse(decisionBody, jsonBody(e), 'rejection');
      // Not rejectRun's own `replan` (that plans in this process): the re-plan is a full run,
      // queued. The rejection is done by then, so no 409 here: a run that took the tenant
      // meanwhile makes the planner report the request as skipped.
      const r = await rejectRun(sync, { tenantId: p.tenant!, runId: p.run!, by: principal(e, b.by), ...(b.note ? { note: b.note } : {}) });
      if (!b.replan) return json(200, { run: r.run });
      const replan = await requestSyncRun(sync, { tenantId: p.tenant!, trigger: 'manual', mode: 'full', withholdDeletions: true }, { refuseWhileRunning: false });
      return json(202, { run: r.run, replan }, { location: requestPath(p.tenant!, replan.requestId) });
    })
    .on('POST', '/admin/tenants/:tenant/runs/:run/abandon', async (e, p) => {
      const b = parse(z.object({ by: z.string().min(1).max(100).optional() }).strict(), jsonBody(e), 'abandon');
      return json(200, await abandonRun(sync, { tenantId: p.tenant!, runId: p.run!, by: principal(e, b.by) }));
    })
    .on('GET', '/admin/tenants/:tenant/mappings', async (e, p) => {
      const q = parse(pageQuery.extend({ type: z.enum(['person', 'department']).default('person') }), singleQuery(e), 'query');
      const page = await listMappings(sync, p.tenant!, q.type, q);
      return json(200, { mappings: page.items, ...(page.cursor ? { cursor: page.cursor } : {}) });
    })
    .on('POST', '/admin/tenants/:tenant/mappings/import', async (e, p) => {
      const b = parse(importBody, jsonBody(e), 'import');
      const result = await importMappings(sync, p.tenant!, b.rows, principal(e, b.by));
      return json(200, result);
    })
    .on('GET', '/admin/tenants/:tenant/explain/:sourceId', async (e, p) => {
      const q = parse(z.object({ type: z.enum(['person', 'department']).optional(), source: z.enum(['true', 'false']).optional() }), singleQuery(e), 'query');
      return json(200, await explainObject(sync, p.tenant!, p.sourceId!, { ...(q.type ? { type: q.type } : {}), readSource: q.source !== 'false' }));
    })
    .on('DELETE', '/admin/tenants/:tenant/watermarks', async (_e, p) => {
      return json(200, { cleared: await clearWatermarks(sync, p.tenant!) });
    });
}
