/**
 * The operator console, served by the bridge itself: `ANY /console` and `ANY /console/{proxy+}`
 * on the HTTP API (no IAM: the console signs people in with the tenant's own identity, and a
 * break-glass link for deployment admins). Server-rendered pages, no script, a strict CSP.
 * Routes: signin.routes.ts (sign-in, sign-out) and tenant.routes.ts (pages and actions).
 */
import { createDingtalkClient } from '../../../shared/adapters/dingtalk';
import { createWecomClient } from '../../../shared/adapters/wecom';
import { DynamoConsoleStore } from '../../../shared/adapters/aws/dynamo-console.store';
import { createDynamoStateStores } from '../../../shared/adapters/aws/dynamo-state.store';
import { SqsDeadLetterQueues } from '../../../shared/adapters/aws/sqs.dead-letters';
import { buildSyncDeps } from '../../../shared/adapters/sources';
import { deploymentSecretName, deploymentSecretSchema } from '../../../shared/config/secrets';
import type { TenantConfig } from '../../../shared/config/tenant-config.schema';
import { errorPage } from '../../../shared/console-ui/pages-main';
import { pickLang } from '../../../shared/console-ui/i18n';
import { isAppError, NotConfiguredError } from '../../../shared/errors/app-error';
import { httpHandler, lazyHandler, type HttpEvent } from '../../../shared/http/http-handler';
import { Router } from '../../../shared/http/router';
import type { SecretStore } from '../../../shared/ports/secret-store';
import { getRuntime } from '../../../shared/runtime/runtime';
import { deriveConsoleKeys, type ConsoleKeys } from '../../../shared/use-cases/console/session';
import type { SsoVendor, VendorSsoClient } from '../../../shared/use-cases/sso/vendor-sso';
import { dingtalkSso, wecomSso } from '../../../shared/adapters/vendor-sso-clients';
import { htmlResult, type ConsoleDeps } from './console-context';
import { registerSignInRoutes } from './signin.routes';
import { registerTenantRoutes } from './tenant.routes';

export function makeRouter(deps: ConsoleDeps): Router {
  const router = new Router();
  registerSignInRoutes(router, deps);
  registerTenantRoutes(router, deps);
  return router;
}

export function makeHandler(deps: ConsoleDeps) {
  const router = makeRouter(deps);
  return httpHandler(
    async (event: HttpEvent) => {
      try {
        return await router.handle(event);
      } catch (err) {
        // Refusals (4xx) as console pages; anything else goes to the generic 500 of httpHandler.
        if (!isAppError(err) || !err.expose || err.status >= 500) throw err;
        deps.logger.warn('console request refused', { route: event.rawPath, code: err.code, status: err.status });
        const lang = pickLang(undefined, undefined, event.headers?.['accept-language']);
        return htmlResult(err.status, errorPage({ lang, path: event.rawPath }, err.status, err.message, err.code));
      }
    },
    { logger: deps.logger, htmlErrors: true },
  );
}

/** The deployment key's derived keys, read once per process (the secret rotates with a redeploy). */
export function consoleKeysFrom(secrets: SecretStore, stage: string): () => Promise<ConsoleKeys> {
  let keys: Promise<ConsoleKeys> | undefined;
  return () =>
    (keys ??= (async () => {
      const name = deploymentSecretName(stage);
      const parsed = deploymentSecretSchema.safeParse((await secrets.getJson(name)) ?? {});
      if (!parsed.success) throw new NotConfiguredError(`Secret "${name}" is missing or has no valid "key".`, { code: 'CONSOLE.NOT_CONFIGURED' });
      return deriveConsoleKeys(parsed.data.key);
    })().catch((err: unknown) => {
      keys = undefined;
      throw err;
    }));
}

export const handler = lazyHandler(() => {
  const rt = getRuntime('console');
  const stores = createDynamoStateStores(rt.ddb, rt.tableName, { clock: rt.clock });
  const vendorClients = new Map<string, VendorSsoClient>();
  const clientOpts = { secrets: rt.secrets, stage: rt.stage, logger: rt.logger };
  const vendorSso = async (t: TenantConfig, vendor: SsoVendor): Promise<VendorSsoClient> => {
    const key = `${t.id}:${vendor}`;
    let c = vendorClients.get(key);
    if (!c) {
      c = vendor === 'dingtalk' ? dingtalkSso(createDingtalkClient(t, clientOpts)) : wecomSso(createWecomClient(t, clientOpts));
      vendorClients.set(key, c);
    }
    return c;
  };
  return makeHandler({
    config: rt.tenants,
    logger: rt.logger,
    clock: rt.clock,
    stage: rt.stage,
    store: new DynamoConsoleStore(rt.ddb, rt.tableName, { clock: rt.clock }),
    once: stores.once,
    secrets: rt.secrets,
    sync: buildSyncDeps(rt, 'admin'),
    keys: consoleKeysFrom(rt.secrets, rt.stage),
    signIn: { once: stores.once, clock: rt.clock, oaLinkSecret: async (t) => (await rt.tenantSecret(t.id, 'oa')).linkSecret, vendorSso },
    deadLetters: SqsDeadLetterQueues.fromEnv(),
    tokenCheck: async (t) => {
      // One authenticated read (the root department) proves the app's token works.
      try {
        if (t.dingtalk) await createDingtalkClient(t, clientOpts).getDepartment(1);
        else if (t.wecom) await createWecomClient(t, clientOpts).getDepartment(1);
        else return { ok: false, detail: 'no DingTalk or WeCom app' };
        return { ok: true, detail: t.dingtalk ? 'dingtalk' : 'wecom' };
      } catch (err) {
        return { ok: false, detail: (err as { code?: string }).code ?? 'ERROR' };
      }
    },
  });
});
