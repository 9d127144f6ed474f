/**
 * Scheduled (every 2 minutes, SCHEDULES in the app manifest): fan out new-mail checks for
 * the people of every tenant with notifications on, to the `notify` queue.
 */
import { lazyHandler } from '../../../shared/http/http-handler';
import { planNotifications, type PlanNotificationsDeps, type PlanNotificationsResult } from '../../../shared/use-cases/notify/plan-notifications';
import { getWiring } from '../../../shared/wiring/wiring';

export type Deps = PlanNotificationsDeps;

export function makeHandler(deps: Deps): () => Promise<PlanNotificationsResult> {
  return () => planNotifications(deps);
}

export const handler = lazyHandler(() => {
  const fn = makeHandler(getWiring('notifyPlanner').planNotificationsDeps());
  return async () => fn();
});
