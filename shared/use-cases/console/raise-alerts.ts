/**
 * Console alerts, run every minute by functions/schedule/alerts. Each condition is detected
 * from the state the bridge already keeps and sent once:
 *
 * | condition                     | detected from                                     | once per                        |
 * |-------------------------------|---------------------------------------------------|---------------------------------|
 * | a run parked for approval     | the tenant's newest runs, status awaiting_approval | run (OnceStore `alert`)         |
 * | a failed run                  | status failed, ended in the last 24 h             | run                             |
 * | a stuck run                   | planning / applying, not updated for stuckMinutes | run                             |
 * | callbacks silent for N hours  | no run triggered by a callback in N hours         | silence (cleared when one comes)|
 * | a DLQ that is not empty       | the DLQ depths                                    | episode (cleared when it empties)|
 *
 * A run alert goes to the tenant's channel (console.alerts) and to the operators' alarm topic;
 * DLQs are shared by every tenant, so their alert goes to the alarm topic only. Each alert
 * links to the console page that shows it. A send that fails releases its claim, so the next
 * minute tries again; a sent alert is never repeated. API budget warnings are not raised:
 * vendor API usage is not metered yet (see README "Console").
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { Logger } from '../../logging/logger';
import type { Alert, AlertChannels } from '../../ports/alert-channels';
import type { Clock } from '../../ports/clock';
import { DEPLOYMENT_SCOPE } from '../../ports/console-store';
import type { DeadLetterQueues } from '../../ports/dead-letters';
import type { CacheStore } from '../../ports/cache-store';
import type { OnceStore } from '../../ports/once-store';
import type { RunRecord, RunStore } from '../../ports/run-store';
import { lastCallbackAt } from './console-queries';

export interface AlertDeps {
  tenants(): readonly TenantConfig[];
  runs: RunStore;
  once: OnceStore;
  cache: CacheStore;
  clock: Clock;
  logger: Logger;
  channels: AlertChannels;
  deadLetters?: DeadLetterQueues;
  /** The console's base URL (`https://<api>`), for the links. */
  consoleBaseUrl: string;
}

export interface AlertReport {
  sent: string[];
  failed: string[];
}

const RUN_ALERT_TTL_SECONDS = 30 * 24 * 3600;
const EPISODE_NAMESPACE = 'alert-episode';
const enc = encodeURIComponent;

function runAlert(deps: AlertDeps, tenant: TenantConfig, r: RunRecord, now: number): Alert | undefined {
  const link = `${deps.consoleBaseUrl}/console/t/${enc(tenant.id)}/runs/${enc(r.runId)}`;
  const name = tenant.displayName ?? tenant.id;
  const lines = [`租户 Tenant: ${name}`, `同步 Run: ${r.runId} (${r.mode}${r.dryRun ? ', dry run' : ''}, ${r.trigger})`];
  if (r.status === 'awaiting_approval') {
    return { tenantId: tenant.id, key: `parked:${r.runId}`, kind: 'run.parked', title: `同步等待批准 Run awaits approval: ${name}`, lines: [...lines, '删除数量超过阈值，需要管理员批准或拒绝。 Deletions exceed the threshold: approve or reject it.'], url: link };
  }
  if (r.status === 'failed' && (r.endedAt ?? r.updatedAt) > now - 24 * 3600_000) {
    return { tenantId: tenant.id, key: `failed:${r.runId}`, kind: 'run.failed', title: `同步失败 Run failed: ${name}`, lines: [...lines, `${r.error?.code ?? 'ERROR'}: ${r.error?.message ?? ''}`.slice(0, 300)], url: link };
  }
  if ((r.status === 'planning' || r.status === 'applying') && now - r.updatedAt > tenant.console.alerts.stuckMinutes * 60_000) {
    const mins = Math.round((now - r.updatedAt) / 60_000);
    return { tenantId: tenant.id, key: `stuck:${r.runId}`, kind: 'run.stuck', title: `同步停滞 Run stuck: ${name}`, lines: [...lines, `${r.status}, ${r.completedBatches}/${r.totalBatches}; ${mins} 分钟无进展 no progress for ${mins} min`], url: link };
  }
  return undefined;
}

async function send(deps: AlertDeps, tenant: TenantConfig | undefined, alert: Alert): Promise<void> {
  if (tenant) await deps.channels.toTenant(tenant, alert);
  await deps.channels.toOperators(alert);
}

/** Send an alert at most once (per key), retrying on a later run when the send fails. */
async function once(deps: AlertDeps, tenant: TenantConfig, alert: Alert, report: AlertReport): Promise<void> {
  const begin = await deps.once.begin(tenant.id, 'alert', alert.key, { leaseSeconds: 120, ttlSeconds: RUN_ALERT_TTL_SECONDS });
  if (begin.status !== 'acquired') return;
  try {
    await send(deps, tenant, alert);
  } catch (err) {
    await deps.once.release(tenant.id, 'alert', alert.key, begin.token).catch(() => undefined);
    throw err;
  }
  await deps.once.complete(tenant.id, 'alert', alert.key, { at: deps.clock.now() }, { ttlSeconds: RUN_ALERT_TTL_SECONDS });
  report.sent.push(`${tenant.id}:${alert.key}`);
}

/** An ongoing condition: alert when it starts, forget it when it ends (so the next episode alerts again). */
async function episode(deps: AlertDeps, scope: string, tenant: TenantConfig | undefined, alert: Alert, active: boolean, report: AlertReport): Promise<void> {
  const known = (await deps.cache.get(scope, EPISODE_NAMESPACE, alert.key)) !== undefined;
  if (!active) {
    if (known) await deps.cache.delete(scope, EPISODE_NAMESPACE, alert.key);
    return;
  }
  if (known) return;
  await send(deps, tenant, alert);
  await deps.cache.put(scope, EPISODE_NAMESPACE, alert.key, { at: deps.clock.now() }, RUN_ALERT_TTL_SECONDS);
  report.sent.push(`${scope}:${alert.key}`);
}

async function tenantAlerts(deps: AlertDeps, tenant: TenantConfig, report: AlertReport): Promise<void> {
  const now = deps.clock.now();
  const recent = (await deps.runs.list(tenant.id, { limit: 20 })).items;
  for (const r of recent) {
    const alert = runAlert(deps, tenant, r, now);
    if (!alert) continue;
    try {
      await once(deps, tenant, alert, report);
    } catch (err) {
      report.failed.push(`${tenant.id}:${alert.key}`);
      deps.logger.warn('alert not sent; retried next minute', { tenant: tenant.id, alert: alert.key, code: (err as { code?: string }).code, err });
    }
  }
  const hours = tenant.console.alerts.callbackSilenceHours;
  if (hours !== undefined) {
    const last = await lastCallbackAt({ stores: { runs: deps.runs } }, tenant.id, { since: now - hours * 3600_000 });
    const alert: Alert = {
      tenantId: tenant.id,
      key: 'callbacks-silent',
      kind: 'callbacks.silent',
      title: `回调静默 Callbacks silent: ${tenant.displayName ?? tenant.id}`,
      lines: [`${hours} 小时内未收到通讯录回调。 No contact callback applied in ${hours} h: check the callback URL in the vendor's console.`],
      url: `${deps.consoleBaseUrl}/console`,
    };
    await episode(deps, tenant.id, tenant, alert, last === undefined, report).catch((err: unknown) => {
      report.failed.push(`${tenant.id}:${alert.key}`);
      deps.logger.warn('alert not sent; retried next minute', { tenant: tenant.id, alert: alert.key, err });
    });
  }
}

export async function raiseAlerts(deps: AlertDeps): Promise<AlertReport> {
  const report: AlertReport = { sent: [], failed: [] };
  for (const tenant of deps.tenants()) {
    try {
      await tenantAlerts(deps, tenant, report);
    } catch (err) {
      // One tenant's failure (its runs unreadable) must not silence the others.
      report.failed.push(`${tenant.id}:*`);
      deps.logger.error('alerts for a tenant failed', { tenant: tenant.id, err });
    }
  }
  if (deps.deadLetters) {
    for (const d of await deps.deadLetters.depths()) {
      const alert: Alert = {
        tenantId: DEPLOYMENT_SCOPE,
        key: `dlq:${d.queue}`,
        kind: 'dlq.not_empty',
        title: `死信队列非空 Dead letters in ${d.queue}`,
        lines: [`${d.deadLetters} 条消息 message(s) in the ${d.queue} DLQ: inspect and redrive.`],
        url: `${deps.consoleBaseUrl}/console/dlq`,
      };
      await episode(deps, DEPLOYMENT_SCOPE, undefined, alert, d.deadLetters > 0, report).catch((err: unknown) => {
        report.failed.push(`${DEPLOYMENT_SCOPE}:${alert.key}`);
        deps.logger.warn('alert not sent; retried next minute', { alert: alert.key, err });
      });
    }
  }
  deps.logger.info('alerts checked', { sent: report.sent.length, failed: report.failed.length });
  return report;
}
