/**
 * The console's pages and actions on a tenant, and the deployment pages. Every route checks
 * the session and the role on the server (authorize.ts) before it reads or acts; every
 * action is recorded in the audit log (refused, failed or ok) and reuses the sync use cases
 * the admin API calls (approve, reject, request a run, explain, CSV).
 *
 *   GET  /console/static/console.css
 *   GET  /console/t/:tenant/runs            ?status&from&to
 *   GET  /console/t/:tenant/runs/:run
 *   GET  /console/t/:tenant/runs/:run/results.csv
 *   POST /console/t/:tenant/runs/:run/approve   {note}
 *   POST /console/t/:tenant/runs/:run/reject    {note}
 *   POST /console/t/:tenant/sync                {mode, dryRun}
 *   POST /console/t/:tenant/token-check
 *   GET  /console/t/:tenant/mappings        ?q&names
 *   GET  /console/t/:tenant/explain/:sourceId   ?type
 *   GET  /console/t/:tenant/audit           ?cursor
 *   GET  /console/audit                     deployment-wide entries (deployment admins)
 *   GET  /console/dlq                       depths (deployment admins)
 *   POST /console/dlq/:queue/redrive
 */
import { z } from 'zod';
import { QUEUES, type QueueName } from '../../../shared/contracts/app-manifest';
import { ValidationError } from '../../../shared/errors/app-error';
import { text } from '../../../shared/http/http-response';
import type { Router } from '../../../shared/http/router';
import { CONSOLE_CSS } from '../../../shared/console-ui/console-css';
import { t } from '../../../shared/console-ui/i18n';
import { tenantBase } from '../../../shared/console-ui/layout';
import { auditPage, dlqPage, overviewPage } from '../../../shared/console-ui/pages-main';
import { explainPage, mappingsPage, runPage, runsPage } from '../../../shared/console-ui/pages-runs';
import { DEPLOYMENT_SCOPE } from '../../../shared/ports/console-store';
import { actorName, canAct, requireDeploymentAdmin, requireRole, visibleTenants } from '../../../shared/use-cases/console/authorize';
import { filterRuns, parseRunFilter, searchMappings, tenantOverview } from '../../../shared/use-cases/console/console-queries';
import { approveRun, explainObject, getRunDetail, rejectRun, requestSyncRun, runPlanText, runResultsCsv } from '../../../shared/use-cases/sync';
import { audited, htmlResult, requestContext, requirePost, requireSession, seeOther, type ConsoleDeps, type RequestContext } from './console-context';

const enc = encodeURIComponent;
const RUN_ID = /^\d{8}T\d{9}Z-[0-9a-z]{4,32}$/;
const syncForm = z.object({ mode: z.enum(['incremental', 'full']).default('incremental'), dryRun: z.literal('1').optional(), _csrf: z.string() }).strict();
const noteForm = z.object({ note: z.string().max(500).optional(), _csrf: z.string() }).strict();

function runId(v: string | undefined): string {
  if (!v || !RUN_ID.test(v)) throw new ValidationError('Not a run id.');
  return v;
}

function parseForm<S extends z.ZodType>(schema: S, form: Record<string, string>): z.output<S> {
  const r = schema.safeParse(form);
  if (!r.success) throw new ValidationError(`Invalid form: ${r.error.issues.map((i) => `${i.path.join('.') || '(form)'} ${i.message}`).join('; ')}`);
  return r.data;
}

/** The overview of every tenant the operator may see (optionally with a token check's answer). */
export async function overview(deps: ConsoleDeps, rc: RequestContext, token: { tenantId: string; ok: boolean; detail: string } | undefined) {
  const session = requireSession(rc);
  const tenants = visibleTenants(deps.config, session.subject);
  const items = await Promise.all(
    tenants.map(async ({ tenant, role }) => ({
      overview: await tenantOverview({ stores: deps.sync.stores, secrets: deps.secrets, stage: deps.stage }, tenant),
      role,
      ...(token?.tenantId === tenant.id ? { token: { ok: token.ok, detail: token.detail } } : {}),
    })),
  );
  const depths = deps.deadLetters ? await deps.deadLetters.depths().catch(() => undefined) : undefined;
  return htmlResult(200, overviewPage(rc.page, items, depths), { cookies: rc.cookies });
}

export function registerTenantRoutes(router: Router, deps: ConsoleDeps): void {
  // Approve and reject: the same checks, the sync use case the admin API calls, back to the run.
  for (const [verb, decide] of [['approve', approveRun], ['reject', rejectRun]] as const) {
    router.on('POST', `/console/t/:tenant/runs/:run/${verb}`, async (e, p) => {
      const { session, form } = requirePost(await requestContext(deps, e));
      const id = runId(p.run);
      await audited(deps, session, { tenantId: p.tenant!, action: `run.${verb}`, target: id }, async () => {
        requireRole(deps.config, session.subject, p.tenant!, 'act');
        const { note } = parseForm(noteForm, form);
        return decide(deps.sync, { tenantId: p.tenant!, runId: id, by: `console ${actorName(session.subject)}`, ...(note ? { note } : {}) });
      });
      return seeOther(`${tenantBase(p.tenant!)}/runs/${enc(id)}`);
    });
  }
  router
    .on('GET', '/console/static/console.css', async () => text(200, CONSOLE_CSS, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }))
    .on('GET', '/console/t/:tenant/runs', async (e, p) => {
      const rc = await requestContext(deps, e);
      const { role } = requireRole(deps.config, requireSession(rc).subject, p.tenant!, 'read');
      const { runs, truncated } = await filterRuns(deps.sync, p.tenant!, parseRunFilter(rc.query));
      return htmlResult(200, runsPage({ ...rc.page, tenantId: p.tenant! }, p.tenant!, runs, truncated, rc.query, canAct(role)), { cookies: rc.cookies });
    })
    .on('GET', '/console/t/:tenant/runs/:run', async (e, p) => {
      const rc = await requestContext(deps, e);
      const { role } = requireRole(deps.config, requireSession(rc).subject, p.tenant!, 'read');
      const detail = await getRunDetail(deps.sync, p.tenant!, runId(p.run));
      const plan = await runPlanText(deps.sync, p.tenant!, detail.run.runId).catch(() => undefined);
      return htmlResult(200, runPage({ ...rc.page, tenantId: p.tenant! }, p.tenant!, detail, plan, canAct(role)), { cookies: rc.cookies });
    })
    .on('GET', '/console/t/:tenant/runs/:run/results.csv', async (e, p) => {
      const rc = await requestContext(deps, e);
      requireRole(deps.config, requireSession(rc).subject, p.tenant!, 'read');
      const lines: string[] = [];
      for await (const line of runResultsCsv(deps.sync, p.tenant!, runId(p.run))) lines.push(line);
      return text(200, `${lines.join('\r\n')}\r\n`, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${runId(p.run)}.csv"` });
    })
    .on('POST', '/console/t/:tenant/sync', async (e, p) => {
      const { session, form } = requirePost(await requestContext(deps, e));
      const f = parseForm(syncForm, form);
      const detail = `${f.mode}${f.dryRun ? ' dry-run' : ''}`;
      const accepted = await audited(deps, session, { tenantId: p.tenant!, action: 'sync.start', detail }, async () => {
        requireRole(deps.config, session.subject, p.tenant!, 'act');
        return requestSyncRun(deps.sync, { tenantId: p.tenant!, trigger: 'manual', mode: f.mode, dryRun: f.dryRun === '1' });
      });
      deps.logger.info('console sync requested', { tenant: p.tenant, requestId: accepted.requestId, mode: f.mode });
      return seeOther(`${tenantBase(p.tenant!)}/runs`);
    })
    .on('POST', '/console/t/:tenant/token-check', async (e, p) => {
      const ctx = await requestContext(deps, e);
      const { session } = requirePost(ctx);
      const result = await audited(deps, session, { tenantId: p.tenant!, action: 'token.check' }, async () => {
        const { tenant } = requireRole(deps.config, session.subject, p.tenant!, 'read');
        return deps.tokenCheck(tenant);
      });
      return overview(deps, ctx, { tenantId: p.tenant!, ...result });
    })
    .on('GET', '/console/t/:tenant/mappings', async (e, p) => {
      const rc2 = await requestContext(deps, e);
      const { tenant } = requireRole(deps.config, requireSession(rc2).subject, p.tenant!, 'read');
      const q = rc2.query.q ?? '';
      const names = rc2.query.names === '1';
      const result = q ? await searchMappings(deps.sync, tenant, q, { names }) : undefined;
      return htmlResult(200, mappingsPage({ ...rc2.page, tenantId: tenant.id }, tenant.id, q, names, result), { cookies: rc2.cookies });
    })
    .on('GET', '/console/t/:tenant/explain/:sourceId', async (e, p) => {
      const rc2 = await requestContext(deps, e);
      requireRole(deps.config, requireSession(rc2).subject, p.tenant!, 'read');
      const type = rc2.query.type === 'person' || rc2.query.type === 'department' ? rc2.query.type : undefined;
      const x = await explainObject(deps.sync, p.tenant!, p.sourceId!, { ...(type ? { type } : {}), readSource: true });
      return htmlResult(200, explainPage({ ...rc2.page, tenantId: p.tenant! }, p.tenant!, x), { cookies: rc2.cookies });
    })
    .on('GET', '/console/t/:tenant/audit', async (e, p) => {
      const rc2 = await requestContext(deps, e);
      requireRole(deps.config, requireSession(rc2).subject, p.tenant!, 'read');
      const page = await deps.store.listAudit(p.tenant!, { limit: 100, ...(rc2.query.cursor ? { cursor: rc2.query.cursor } : {}) });
      return htmlResult(200, auditPage({ ...rc2.page, tenantId: p.tenant! }, `${t(rc2.lang, 'audit')} · ${p.tenant}`, page.items, page.cursor), { cookies: rc2.cookies });
    })
    .on('GET', '/console/audit', async (e) => {
      const rc2 = await requestContext(deps, e);
      requireDeploymentAdmin(deps.config, requireSession(rc2).subject);
      const page = await deps.store.listAudit(DEPLOYMENT_SCOPE, { limit: 100, ...(rc2.query.cursor ? { cursor: rc2.query.cursor } : {}) });
      return htmlResult(200, auditPage(rc2.page, `${t(rc2.lang, 'audit')} · deployment`, page.items, page.cursor), { cookies: rc2.cookies });
    })
    .on('GET', '/console/dlq', async (e) => {
      const rc2 = await requestContext(deps, e);
      requireDeploymentAdmin(deps.config, requireSession(rc2).subject);
      if (!deps.deadLetters) throw new ValidationError('This function is not wired to the queues.');
      return htmlResult(200, dlqPage(rc2.page, await deps.deadLetters.depths()), { cookies: rc2.cookies });
    })
    .on('POST', '/console/dlq/:queue/redrive', async (e, p) => {
      const { session } = requirePost(await requestContext(deps, e));
      const queue = p.queue as QueueName;
      const moved = await audited(deps, session, { tenantId: DEPLOYMENT_SCOPE, action: 'dlq.redrive', target: String(p.queue).slice(0, 40) }, async () => {
        requireDeploymentAdmin(deps.config, session.subject);
        if (!(queue in QUEUES)) throw new ValidationError('Unknown queue.');
        if (!deps.deadLetters) throw new ValidationError('This function is not wired to the queues.');
        return deps.deadLetters.redrive(queue, 1000);
      });
      deps.logger.info('console dlq redrive', { queue, moved: moved.moved });
      return seeOther('/console/dlq');
    });
}
