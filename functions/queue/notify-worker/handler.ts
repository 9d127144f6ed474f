// Placeholder until new-mail notifications land: fails every record (non-silently) so
// nothing is acknowledged as sent; the notify queue's DLQ keeps them.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from '../../../shared/logging/logger';

const logger = createLogger({ fields: { function: 'notifyWorker' } });
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  logger.error('new-mail notifications are not available in this build', { records: event.Records.length });
  return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
};
