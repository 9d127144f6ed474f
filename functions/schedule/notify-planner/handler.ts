// Placeholder until new-mail notifications land: says so in the logs, does nothing.
import { createLogger } from '../../../shared/logging/logger';

const logger = createLogger({ fields: { function: 'notifyPlanner' } });
export const handler = async (): Promise<{ status: string }> => {
  logger.warn('new-mail notifications are not available in this build; nothing was checked');
  return { status: 'not_configured' };
};
