/**
 * Consumes the `notify` queue: each record is a batch of mailboxes to check for new mail
 * (shared/contracts/notify-job.ts); new mail becomes a DingTalk work notification or a
 * WeCom textcard. Partial batch failures: a retryable failure fails its record only.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { DynamoNotifyStore } from '../../../shared/adapters/aws/dynamo-notify.store';
import { createDingtalkClient, type DingtalkClient } from '../../../shared/adapters/dingtalk';
import { RateLimiterRegistry } from '../../../shared/adapters/http/rate-limiter';
import { NeteaseClient, neteaseRateLimiter } from '../../../shared/adapters/netease';
import { createWecomClient, type WecomClient } from '../../../shared/adapters/wecom';
import { notifyJobFromJson } from '../../../shared/contracts/notify-job';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { ConfigError, ValidationError } from '../../../shared/errors/app-error';
import { lazyHandler } from '../../../shared/http/http-handler';
import { sqsBatchHandler } from '../../../shared/lambda/sqs-batch';
import { getRuntime } from '../../../shared/runtime/runtime';
import { flushingUsage, usageWiring } from '../../../shared/runtime/usage';
import { loadTenantSigner } from '../../../shared/use-cases/manage-keys';
import { dingtalkSender, wecomSender } from '../../../shared/use-cases/notify/channel-senders';
import { checkNewMail, type CheckNewMailDeps } from '../../../shared/use-cases/notify/check-new-mail';
import { digestWindow } from '../../../shared/use-cases/notify/digest';

export interface Deps extends CheckNewMailDeps {
  /** Records handled at once (each is one NetEase call plus its sends). */
  recordConcurrency?: number;
}

export function makeHandler(deps: Deps): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return sqsBatchHandler(
    async (record, context) => {
      const parsed = notifyJobFromJson(record.body);
      // A message we cannot read will not read better on retry: logged and acknowledged.
      if (!parsed.ok) throw new ValidationError(`notify message refused: ${parsed.problems.join('; ')}`, { code: 'NOTIFY.BAD_MESSAGE' });
      const timeLeftMs = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined;
      await checkNewMail(deps, parsed.job, { timeLeftMs });
    },
    { logger: deps.logger, concurrency: deps.recordConcurrency ?? 2 },
  );
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('notifyWorker');
  // Links go to the SSO Function URL when known, else the HTTP API's /sso route.
  const ssoBaseUrl = rt.env.QIYE_SSO_BASE_URL ?? rt.env.QIYE_PUBLIC_BASE_URL;
  if (!ssoBaseUrl) {
    throw new ConfigError('Function environment is invalid:', [{ file: 'env', path: 'QIYE_SSO_BASE_URL', reason: 'QIYE_SSO_BASE_URL or QIYE_PUBLIC_BASE_URL is required to link notifications to SSO' }]);
  }
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  // One registry per process: every client of a tenant shares the vendor's rate budget.
  const limiters = new RateLimiterRegistry();
  const netease = new Map<string, { signer: unknown; client: NeteaseClient }>();
  const dingtalk = new Map<string, DingtalkClient>();
  const wecom = new Map<string, WecomClient>();
  const { meter } = usageWiring(rt);

  const mailLogs = async (t: TenantConfig) => {
    const signer = await loadTenantSigner({ secrets: rt.secrets, stage: rt.stage, tenantId: t.id, logger: rt.logger });
    let entry = netease.get(t.id);
    // A rotated key gives a new Signer object: rebuild the client then.
    if (!entry || entry.signer !== signer) {
      entry = { signer, client: new NeteaseClient(t.netease, signer, { limiter: neteaseRateLimiter(limiters, t.id, t.netease), logger: rt.logger }) };
      netease.set(t.id, entry);
    }
    return entry.client;
  };

  return flushingUsage(rt, makeHandler({
    tenant: (id) => rt.tenant(id),
    notifyStore: new DynamoNotifyStore(rt.ddb, rt.tableName, { clock: rt.clock }),
    once: stores.once,
    cache: stores.cache,
    clock: rt.clock,
    logger: rt.logger,
    ssoBaseUrl,
    mailLogs,
    // The same client lists mailboxes (mailbox/listMessages), so a notice opens its mail.
    mailbox: mailLogs,
    digestMinutes: digestWindow({ usage: usageWiring(rt).store, clock: rt.clock }),
    sender: async (t, channel) => {
      if (channel === 'dingtalk') {
        let c = dingtalk.get(t.id);
        if (!c) dingtalk.set(t.id, (c = createDingtalkClient(t, { secrets: rt.secrets, stage: rt.stage, limiters, logger: rt.logger, meter })));
        return dingtalkSender(c);
      }
      let c = wecom.get(t.id);
      if (!c) wecom.set(t.id, (c = createWecomClient(t, { secrets: rt.secrets, stage: rt.stage, limiters, logger: rt.logger, meter })));
      return wecomSender(c);
    },
  }));
});
