/**
 * Scheduled (every minute, SCHEDULES in the app manifest): fan out new-mail checks for
 * the people of every tenant with notifications on, to the `notify` queue (each batch twice:
 * at once and 30 s later), and check the vendors' API budgets (80 % / 100 % warnings).
 */
import { lazyHandler } from '../../../shared/http/http-handler';
import { checkBudgets } from '../../../shared/use-cases/usage/usage-report';
import { planNotifications, type PlanNotificationsDeps, type PlanNotificationsResult } from '../../../shared/use-cases/notify/plan-notifications';
import { getWiring } from '../../../shared/wiring/wiring';

export type Deps = PlanNotificationsDeps & { metric?(name: string, value: number, dimensions: Record<string, string>): void };

export function makeHandler(deps: Deps): () => Promise<PlanNotificationsResult> {
  return async () => {
    const result = await planNotifications(deps);
    // The budget warnings of tenants with notices (the sync schedules check theirs too).
    if (deps.usage) {
      const usage = deps.usage;
      for (const t of deps.tenants.filter((x) => x.notifications.enabled)) {
        await checkBudgets({ usage, clock: deps.clock, logger: deps.logger, tenant: (id) => deps.tenants.find((x) => x.id === id), ...(deps.metric ? { metric: deps.metric } : {}) }, t.id).catch((err: unknown) =>
          deps.logger.warn('usage check failed', { tenant: t.id, err }),
        );
      }
    }
    return result;
  };
}

export const handler = lazyHandler(() => {
  const w = getWiring('notifyPlanner');
  const plan = makeHandler(w.planNotificationsDeps());
  return w.flushing(async () => plan());
});
