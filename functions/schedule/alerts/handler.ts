/**
 * Scheduled (every minute, SCHEDULES in the app manifest): console alerts for parked,
 * failed and stuck runs, silent callbacks and dead letters (shared/use-cases/console/raise-alerts.ts),
 * to each tenant's admins (DingTalk work notice, WeCom app message or group robot) and the alarm topic.
 */
import { lazyHandler } from '../../../shared/http/http-handler';
import { raiseAlerts, type AlertDeps, type AlertReport } from '../../../shared/use-cases/console/raise-alerts';
import { getWiring } from '../../../shared/wiring/wiring';

export function makeHandler(deps: AlertDeps): () => Promise<AlertReport> {
  return () => raiseAlerts(deps);
}

export const handler = lazyHandler(() => {
  const w = getWiring('alerts');
  const fn = makeHandler(w.alertsDeps());
  // Notices to admins are DingTalk / WeCom calls: their usage counts are written per invocation.
  return w.flushing(async () => fn());
});
