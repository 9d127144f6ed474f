/**
 * POST /callbacks/dingtalk/{tenant}: DingTalk encrypted contact callbacks (HTTP push).
 * Verify, dedup, enqueue to the `callback` queue, answer the encrypted "success"; the flow is
 * shared/use-cases/callbacks/accept-callback.ts.
 */
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { httpHandler, lazyHandler } from '../../../shared/http/http-handler';
import { text } from '../../../shared/http/http-response';
import { getRuntime } from '../../../shared/runtime/runtime';
import type { AcceptCallbackDeps } from '../../../shared/use-cases/callbacks/accept-callback';
import { acceptDingtalkCallback } from '../../../shared/use-cases/callbacks/dingtalk-callback';

export type Deps = AcceptCallbackDeps;

export function makeHandler(deps: Deps) {
  return httpHandler(
    async (event) => {
      const reply = await acceptDingtalkCallback(deps, {
        tenantId: event.pathParameters?.tenant,
        method: event.requestContext.http.method,
        rawQuery: event.rawQueryString,
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
      });
      return text(reply.status, reply.body, { 'content-type': reply.contentType });
    },
    { logger: deps.logger },
  );
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('dingtalkCallback');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  return makeHandler({
    tenant: (id) => rt.tenant(id),
    callbackSecret: (t) => rt.tenantSecret(t.id, 'dingtalk'),
    once: stores.once,
    jobs: rt.jobs,
    clock: rt.clock,
    logger: rt.logger,
  });
});
