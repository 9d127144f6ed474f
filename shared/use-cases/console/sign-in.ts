/**
 * Console sign-in with the tenant's own identity, reusing the SSO pieces: DingTalk / WeCom
 * OAuth (QR on a PC) through the same SignInIdentity port and signed `state` as mail SSO, CAS
 * through the same CasTicketValidator port, and signed OA links through the same verifier. The console's
 * state is minted with flow `console`, so a mail SSO state cannot complete a console
 * sign-in or the reverse; a console OA link must carry `module=console` (signed), so a
 * mail link the OA hands every employee cannot open the console.
 *
 * This establishes who the person is (`<via>:<user id>` of a tenant); what they may do is
 * authorize.ts's decision, made on every request.
 *
 * The OAuth `redirect_uri` and the CAS service URL are `<QIYE_PUBLIC_BASE_URL>/console/signin/
 * <tenant>/<via>` (shared/config/public-url.ts), never built from the request's Host or
 * X-Forwarded-* headers. The console is served by the HTTP API only, so the tenant's
 * `sso.publicBaseUrl` (the SSO endpoint's address, possibly the SSO Function URL) is not used.
 */
import { publicUrl } from '../../config/public-url';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AuthError, ValidationError } from '../../errors/app-error';
import type { Clock } from '../../ports/clock';
import type { OperatorSubject } from '../../ports/console-store';
import type { CasTicketValidator } from '../../ports/cas-ticket-validator';
import type { OnceStore } from '../../ports/once-store';
import type { SignInIdentity, SsoVendor } from '../../ports/sign-in-identity';
import type { OaLinkTargetCheck } from '../sso/oa-link';
import { authenticateOaLink } from '../sso/sign-in';
import { isInApp, makeState, verifyState } from '../sso/vendor-sso';

export type ConsoleVia = 'dingtalk' | 'wecom' | 'cas' | 'oa';
export const CONSOLE_VIAS: readonly ConsoleVia[] = ['dingtalk', 'wecom', 'cas', 'oa'];
const FLOW = 'console';

export interface ConsoleSignInDeps {
  once: OnceStore;
  clock: Clock;
  /** The tenant's OA link secret: signs OAuth state and OA links, as for mail SSO. */
  oaLinkSecret(tenant: TenantConfig): Promise<string>;
  vendorSso(tenant: TenantConfig, vendor: SsoVendor): Promise<SignInIdentity>;
  /** The tenant's CAS server (only called for tenants with `sso.cas`). */
  cas(tenant: TenantConfig): CasTicketValidator;
  /** The HTTP API's public base URL (stack output QIYE_PUBLIC_BASE_URL), where the console is served. */
  consoleBaseUrl?: string;
}

/** Where the vendor / CAS sends the browser back: this console route at the configured public URL. */
export function consoleCallbackUrl(deps: Pick<ConsoleSignInDeps, 'consoleBaseUrl'>, tenant: TenantConfig, via: ConsoleVia): string {
  return publicUrl([deps.consoleBaseUrl], `/console/signin/${encodeURIComponent(tenant.id)}/${via}`, "the console sign-in's redirect_uri (QIYE_PUBLIC_BASE_URL)");
}

/**
 * The target check of a console OA link: exactly `module=console` and no `mid` (the NetEase
 * entry check, which knows only NetEase's modules, would refuse it; a mail SSO link checks
 * with that one, so `module=console` never reaches NetEase and a mail link never opens the console).
 */
export const consoleLinkTarget: OaLinkTargetCheck = (q) => {
  if (q.module !== 'console' || q.mid) throw new AuthError('CONSOLE.NOT_A_CONSOLE_LINK', 'This is not a console sign-in link.');
  return { module: 'console' };
};

/** The ways this tenant's people can sign in to the console. */
export function signInMethods(tenant: TenantConfig): ConsoleVia[] {
  const out: ConsoleVia[] = [];
  if (tenant.dingtalk) out.push('dingtalk');
  if (tenant.wecom) out.push('wecom');
  if (tenant.sso.cas) out.push('cas');
  if (tenant.sso.oaLink.enabled) out.push('oa');
  return out;
}

function requireMethod(tenant: TenantConfig, via: string): ConsoleVia {
  if (!(CONSOLE_VIAS as readonly string[]).includes(via) || !signInMethods(tenant).includes(via as ConsoleVia)) {
    throw new ValidationError(`This tenant does not sign in through "${via.slice(0, 16)}".`, { code: 'CONSOLE.SIGNIN_METHOD' });
  }
  return via as ConsoleVia;
}

/**
 * First leg: where to send the browser (the vendor's OAuth / QR page, or the CAS login),
 * coming back to this same console path ({@link consoleCallbackUrl}).
 */
export async function consoleSignInStart(deps: ConsoleSignInDeps, input: { tenant: TenantConfig; via: string; userAgent?: string }): Promise<string> {
  const via = requireMethod(input.tenant, input.via);
  if (via === 'oa') throw new ValidationError('Open the console from your OA portal\'s signed console link.', { code: 'CONSOLE.SIGNIN_METHOD' });
  const callbackUrl = consoleCallbackUrl(deps, input.tenant, via);
  if (via === 'cas') return deps.cas(input.tenant).loginUrl(callbackUrl);
  const client = await deps.vendorSso(input.tenant, via);
  const state = makeState(await deps.oaLinkSecret(input.tenant), { tenantId: input.tenant.id, via, flow: FLOW, now: deps.clock.now() });
  return client.loginUrl({ redirectUri: callbackUrl, state, inApp: isInApp(via, input.userAgent) });
}

/**
 * Second leg: the vendor's code (or the CAS ticket, or the OA link) becomes the signed-in
 * identity. Each state, ticket and link works once.
 * @throws AuthError / ValidationError for anything forged, replayed, expired or malformed.
 */
export async function consoleSignInFinish(deps: ConsoleSignInDeps, input: { tenant: TenantConfig; via: string; query: Record<string, string | undefined> }): Promise<OperatorSubject> {
  const { tenant, query } = input;
  const via = requireMethod(tenant, input.via);
  const subject = (userId: string): OperatorSubject => ({ kind: 'tenant', tenantId: tenant.id, via, userId });
  if (via === 'oa') {
    // The console link is an OA link for module "console"; a mail link (no module, or another) is refused.
    if (query.module !== 'console') throw new AuthError('CONSOLE.NOT_A_CONSOLE_LINK', 'This is not a console sign-in link.');
    const link = await authenticateOaLink(deps, tenant, query, consoleLinkTarget);
    return subject(link.user);
  }
  if (via === 'cas') {
    if (!query.ticket) throw new ValidationError('The CAS sign-in came back without a ticket.', { code: 'CONSOLE.NO_TICKET' });
    // The service URL must be exactly the one the login leg sent (CAS protocol 3.0 §2.5).
    return subject(await deps.cas(tenant).validate(consoleCallbackUrl(deps, tenant, via), query.ticket));
  }
  const code = query.code ?? query.authCode ?? query.auth_code;
  if (!code) throw new ValidationError('The sign-in came back without a code. Start again.', { code: 'CONSOLE.NO_CODE' });
  const nonce = verifyState(await deps.oaLinkSecret(tenant), { state: query.state, tenantId: tenant.id, via, flow: FLOW, now: deps.clock.now(), windowSeconds: tenant.sso.windowSeconds });
  if (!(await deps.once.claim(tenant.id, 'nonce', `console:${nonce}`, tenant.sso.windowSeconds * 2))) {
    throw new AuthError('CONSOLE.REPLAYED', 'This sign-in was already used. Start again.');
  }
  const client = await deps.vendorSso(tenant, via);
  return subject(await client.userIdFromCallback(query));
}
