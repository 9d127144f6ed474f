/**
 * Sign-in routes of the console (no session needed):
 *   GET  /console                               the overview when signed in, else the sign-in page
 *   GET  /console/signin/:tenant/:via           start (to the vendor / CAS), or finish when the vendor comes back
 *   GET  /console/breakglass?label&exp&nonce&sig a button that redeems the link (POST)
 *   POST /console/breakglass                     redeem it: one-time, then a session
 *   POST /console/signout                        end the session (CSRF-checked)
 *
 * SameSite=Strict cookies are not sent on the navigation coming back from DingTalk / WeCom /
 * CAS (it starts on another site), and a cookie set by a cross-site redirect response would
 * be fine but the *next* request must be same-site: so a finished sign-in answers 200 with the
 * cookie and a page that continues to /console (a same-site navigation).
 */
import { findTenant } from '../../../shared/config/load-config';
import { NotFoundError } from '../../../shared/errors/app-error';
import { redirect } from '../../../shared/http/http-response';
import type { Router } from '../../../shared/http/router';
import { breakGlassPage, continuePage, errorPage, signInPage } from '../../../shared/console-ui/pages-main';
import { DEPLOYMENT_SCOPE, type OperatorSubject } from '../../../shared/ports/console-store';
import { actorName, visibleTenants } from '../../../shared/use-cases/console/authorize';
import { checkBreakGlassLink, redeemBreakGlassLink } from '../../../shared/use-cases/console/break-glass';
import { clearSessionCookie, endSession, sessionCookie, startSession } from '../../../shared/use-cases/console/session';
import { consoleSignInFinish, consoleSignInStart, signInMethods } from '../../../shared/use-cases/console/sign-in';
import { audited, formBody, htmlResult, requestContext, requirePost, seeOther, type ConsoleDeps, type RequestContext } from './console-context';
import { overview } from './tenant.routes';

const FINISH_PARAMS = ['code', 'authCode', 'auth_code', 'ticket', 'sig'];

export function registerSignInRoutes(router: Router, deps: ConsoleDeps): void {
  router
    .on('GET', '/console', async (e) => {
      const rc = await requestContext(deps, e);
      if (rc.session) return overview(deps, rc, undefined);
      const tenants = deps.config.tenants.map((t) => ({ id: t.id, name: t.displayName ?? t.id, methods: signInMethods(t) }));
      return htmlResult(200, signInPage(rc.page, tenants), { cookies: rc.cookies });
    })
    .on('GET', '/console/signin/:tenant/:via', async (e, p) => {
      const rc = await requestContext(deps, e);
      const tenant = findTenant(deps.config, p.tenant!);
      if (!tenant) throw new NotFoundError('Unknown tenant.', { code: 'TENANT.UNKNOWN' });
      if (!FINISH_PARAMS.some((k) => rc.query[k] !== undefined)) {
        return redirect(await consoleSignInStart(deps.signIn, { tenant, via: p.via!, userAgent: e.headers?.['user-agent'] }));
      }
      const subject = await consoleSignInFinish(deps.signIn, { tenant, via: p.via!, query: rc.query });
      return finishSignIn(deps, rc, subject, tenant.id);
    })
    .on('GET', '/console/breakglass', async (e) => {
      const rc = await requestContext(deps, e);
      const { label } = checkBreakGlassLink(await deps.keys(), rc.query, deps.clock.now());
      const q = { label, exp: rc.query.exp!, nonce: rc.query.nonce!, sig: rc.query.sig! };
      return htmlResult(200, breakGlassPage(rc.page, q, `breakglass:${label}`));
    })
    .on('POST', '/console/breakglass', async (e) => {
      const rc = await requestContext(deps, e);
      const subject = await redeemBreakGlassLink({ keys: await deps.keys(), once: deps.once, clock: deps.clock }, formBody(e));
      return finishSignIn(deps, rc, subject, DEPLOYMENT_SCOPE);
    })
    .on('POST', '/console/signout', async (e) => {
      const rc = await requestContext(deps, e);
      const { session } = requirePost(rc);
      const scope = session.subject.kind === 'tenant' ? session.subject.tenantId : DEPLOYMENT_SCOPE;
      await audited(deps, session, { tenantId: scope, action: 'signout' }, async () => endSession({ store: deps.store, clock: deps.clock, keys: await deps.keys() }, session));
      return seeOther('/console', [clearSessionCookie()]);
    });
}

async function finishSignIn(deps: ConsoleDeps, rc: RequestContext, subject: OperatorSubject, scope: string): Promise<ReturnType<typeof htmlResult>> {
  const roles = visibleTenants(deps.config, subject);
  if (roles.length === 0) {
    await deps.store.appendAudit({ tenantId: scope, at: deps.clock.now(), actor: actorName(subject), action: 'signin', outcome: 'refused', detail: 'no console role' });
    deps.logger.warn('console sign-in refused: no role', { tenant: scope, actor: actorName(subject) });
    return htmlResult(403, errorPage(rc.page, 403, `${actorName(subject)}: no console role. Ask a deployment admin to add you to console.admins or console.auditors.`, 'CONSOLE.NO_ROLE'));
  }
  const { session, cookieValue } = await startSession({ store: deps.store, clock: deps.clock, keys: await deps.keys() }, subject);
  await deps.store.appendAudit({ tenantId: scope, at: deps.clock.now(), actor: actorName(subject), action: 'signin', outcome: 'ok', detail: roles.map((r) => `${r.tenant.id}:${r.role}`).join(' ').slice(0, 1000) });
  deps.logger.info('console sign-in', { tenant: scope, actor: actorName(subject) });
  const page = { ...rc.page, me: { actor: actorName(subject), csrf: session.csrf, deploymentAdmin: false } };
  return htmlResult(200, continuePage(page, '/console'), { cookies: [sessionCookie(cookieValue), ...rc.cookies] });
}
