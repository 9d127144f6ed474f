/**
 * Single sign-on into NetEase webmail: establish who the person is (a signed OA link, or
 * CAS), find their mailbox, and answer with a redirect to the signed NetEase entry URL.
 *
 * Unknown, suspended and departed people get a page, never a redirect. Nonces are
 * claimed once, after the signature checks out, so a forged link can't burn a real one.
 */
import { randomBytes } from 'node:crypto';
import { publicUrl } from '../../config/public-url';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AuthError, NotConfiguredError, ValidationError } from '../../errors/app-error';
import type { Logger } from '../../logging/logger';
import type { Clock } from '../../ports/clock';
import type { CasTicketValidator } from '../../ports/cas-ticket-validator';
import type { MappingStore } from '../../ports/mapping-store';
import type { OnceStore } from '../../ports/once-store';
import type { SignInIdentity, SsoVendor } from '../../ports/sign-in-identity';
import type { SourceKind } from '../../ports/store-common';
import { buildEntryUrl, type EntrySigner, type EntryTarget } from './build-entry-url';
import { entryTargetOf } from './entry-target';
import { verifyOaLink, type OaLinkParams, type OaLinkTargetCheck } from './oa-link';
import { dingtalkH5Page, isInApp, makeState, verifyState } from './vendor-sso';
import { resolveAccount } from './resolve-account';
import { findChannel, type TenantChannel } from '../../config/channels';
import type { IdentityLinkStore } from '../../ports/identity-link-store';
import { personOfChannelUser } from './channel-identity';

export interface SignInDeps {
  mappings: MappingStore;
  once: OnceStore;
  clock: Clock;
  logger: Logger;
  /** The tenant's OA link secret (from its `oa` secret). */
  oaLinkSecret(tenant: TenantConfig): Promise<string>;
  /** The tenant's NetEase signer (the private key never leaves it). */
  signer(tenant: TenantConfig): Promise<EntrySigner>;
  /**
   * The sign-in client of the tenant's DingTalk / WeCom channel (only called for
   * `via=dingtalk|wecom`); `channelId` absent = the top-level section's app.
   */
  vendorSso?(tenant: TenantConfig, vendor: SsoVendor, channelId?: string): Promise<SignInIdentity>;
  /** Identity links (channels apart from the directory source, shared/config/channels.ts). */
  links?: IdentityLinkStore;
  /** The tenant's CAS server (only called for tenants with `sso.cas`). */
  cas(tenant: TenantConfig): CasTicketValidator;
  /**
   * The deployment's public base URL of the SSO endpoint (stack outputs: the SSO Function
   * URL, else the HTTP API URL), used when the tenant sets no `sso.publicBaseUrl`.
   */
  ssoBaseUrl?: string;
}

export interface SignInRequest {
  tenant: TenantConfig;
  /** Decoded query parameters. */
  query: Record<string, string | undefined>;
  /** The browser's User-Agent (picks the in-app or QR vendor flow). */
  userAgent?: string;
}

export type SignInResult =
  | { kind: 'redirect'; location: string; accountName?: string; via: 'oa' | 'cas' | 'cas-login' | SsoVendor | `${SsoVendor}-login` }
  /** A page the browser must run (the DingTalk workbench's JSAPI step); `scriptNonce` goes in its CSP. */
  | { kind: 'page'; html: string; scriptNonce: string; scriptSrc: string; via: 'dingtalk-h5' };

export async function signIn(deps: SignInDeps, req: SignInRequest): Promise<SignInResult> {
  const { tenant, query } = req;
  const now = deps.clock.now();
  const log = deps.logger.child({ tenant: tenant.id });
  const source: SourceKind | undefined = tenant.sync.source;

  let userId: string;
  let target: EntryTarget;
  let via: 'oa' | 'cas' | SsoVendor;

  if (query.via === 'dingtalk' || query.via === 'wecom') {
    const vendor: SsoVendor = query.via;
    // `channel=<id>` picks one of several orgs of a vendor; absent = the vendor's first channel.
    const channel = findChannel(tenant, vendor, query.channel || undefined);
    if (!channel || !deps.vendorSso) throw new ValidationError(`This tenant does not sign in through ${vendor}${query.channel ? ` channel "${query.channel}"` : ''}.`, { code: 'SSO.VENDOR_NOT_CONFIGURED' });
    const client = await deps.vendorSso(tenant, vendor, channel.id === vendor ? undefined : channel.id);
    const secret = await deps.oaLinkSecret(tenant);
    // The state binds the channel too (inside `flow`), so a code can't be replayed against another org.
    const ch = channel.id === vendor ? '' : `@${channel.id}`;
    const target: { tenantId: string; via: SsoVendor; mid?: string; module?: string } = { tenantId: tenant.id, via: vendor, ...entryTargetOf(query) };
    const code = query.code ?? query.authCode ?? query.auth_code;
    // The DingTalk workbench (H5 app homepage `/sso/<tenant>?via=dingtalk&flow=h5`): a page
    // gets a JSAPI auth code and comes back here with it (reference dingtalk.md §5).
    const h5 = vendor === 'dingtalk' && query.flow === 'h5';
    if (h5 && channel.vendor === 'dingtalk') {
      const app = channel.settings;
      if (code === undefined) {
        const back = new URL(selfUrl(deps, tenant, 'the DingTalk workbench sign-in'));
        back.searchParams.set('via', vendor);
        back.searchParams.set('flow', 'h5');
        if (ch) back.searchParams.set('channel', channel.id);
        if (target.mid) back.searchParams.set('mid', target.mid);
        if (target.module) back.searchParams.set('module', target.module);
        const scriptNonce = randomBytes(16).toString('base64');
        const state = makeState(secret, { ...target, flow: `h5${ch}`, now });
        const html = dingtalkH5Page({ jsapiUrl: app.jsapiUrl, corpId: app.corpId, back: back.toString(), state, scriptNonce });
        return { kind: 'page', html, scriptNonce, scriptSrc: new URL(app.jsapiUrl).origin, via: 'dingtalk-h5' };
      }
      if (!client.userIdFromJsapiCode) throw new NotConfiguredError('DingTalk workbench sign-in is not available.', { code: 'SSO.VENDOR_NOT_CONFIGURED' });
      const nonce = verifyState(secret, { state: query.state, ...target, flow: `h5${ch}`, now, windowSeconds: tenant.sso.windowSeconds });
      if (!(await deps.once.claim(tenant.id, 'nonce', `state:${nonce}`, tenant.sso.windowSeconds * 2))) {
        throw new AuthError('SSO.REPLAYED', 'This sign-in was already used. Start again from the app.');
      }
      const vendorUserId = await client.userIdFromJsapiCode(code);
      return finish(deps, req, { userId: vendorUserId, target: { mid: target.mid, module: target.module }, via: vendor, channel, source, log, now });
    }
    if (code === undefined) {
      // First leg: off to the vendor, coming back to this same URL (mid/module kept in it).
      // The vendor's redirect_uri: our configured public URL, never the request's Host.
      const back = new URL(selfUrl(deps, tenant, `the ${vendor} sign-in's redirect_uri`));
      back.searchParams.set('via', vendor);
      if (ch) back.searchParams.set('channel', channel.id);
      if (target.mid) back.searchParams.set('mid', target.mid);
      if (target.module) back.searchParams.set('module', target.module);
      const state = makeState(secret, { ...target, ...(ch ? { flow: `oauth${ch}` } : {}), now });
      return { kind: 'redirect', location: client.loginUrl({ redirectUri: back.toString(), state, inApp: isInApp(vendor, req.userAgent) }), via: `${vendor}-login` };
    }
    const nonce = verifyState(secret, { state: query.state, ...target, ...(ch ? { flow: `oauth${ch}` } : {}), now, windowSeconds: tenant.sso.windowSeconds });
    if (!(await deps.once.claim(tenant.id, 'nonce', `state:${nonce}`, tenant.sso.windowSeconds * 2))) {
      throw new AuthError('SSO.REPLAYED', 'This sign-in was already used. Start again from the app.');
    }
    const vendorUserId = await client.userIdFromCallback(query);
    return finish(deps, req, { userId: vendorUserId, target: { mid: target.mid, module: target.module }, via: vendor, channel, source, log, now });
  } else if (query.sig !== undefined) {
    const link = await authenticateOaLink(deps, tenant, query);
    userId = link.user;
    target = targetOf(link);
    via = 'oa';
  } else if (query.ticket !== undefined) {
    const cas = tenant.sso.cas;
    if (!cas) throw new ValidationError('This tenant does not use CAS.', { code: 'SSO.CAS_NOT_CONFIGURED' });
    target = targetOf({ ...entryTargetOf(query), lang: query.lang });
    userId = await deps.cas(tenant).validate(casService(deps, req, cas.serviceUrl), query.ticket);
    via = 'cas';
  } else if (tenant.sso.cas) {
    entryTargetOf(query); // a bad mid/module is refused now, not after the CAS round trip
    return { kind: 'redirect', location: deps.cas(tenant).loginUrl(casService(deps, req, tenant.sso.cas.serviceUrl)), via: 'cas-login' };
  } else {
    throw new ValidationError('Open your mailbox from the portal\'s mail link: this address needs a signed link.', { code: 'SSO.NO_IDENTITY' });
  }

  return finish(deps, req, { userId, target, via, source, log, now });
}

async function finish(
  deps: SignInDeps,
  req: SignInRequest,
  r: { userId: string; target: EntryTarget; via: 'oa' | 'cas' | SsoVendor; channel?: TenantChannel; source: SourceKind | undefined; log: Logger; now: number },
): Promise<SignInResult> {
  const { tenant } = req;
  const { target, via, source, log, now } = r;
  let userId = r.userId;
  if (!source) throw new NotConfiguredError(`Tenant "${tenant.id}" has no directory source, so no mailbox mapping to sign in with.`, { code: 'SSO.NO_SOURCE' });
  // A channel that is not the source itself: its user id maps to a source person through the links.
  if (r.channel && !r.channel.native) {
    if (!deps.links) throw new NotConfiguredError(`Tenant "${tenant.id}" syncs from ${source}; ${via} sign-in needs identity links.`, { code: 'SSO.SOURCE_MISMATCH' });
    userId = await personOfChannelUser({ links: deps.links, tenant, channelId: r.channel.id, channelUserId: userId });
  }
  const accountName = await resolveAccount({ tenant, mappings: deps.mappings, source, userId });
  const location = buildEntryUrl({
    entryUrl: tenant.netease.ssoEntryUrl,
    domain: tenant.netease.domain,
    accountName,
    now,
    signer: await deps.signer(tenant),
    target,
    defaultLang: tenant.sso.lang,
  });
  log.info('sso redirect', { via, userId, accountName });
  return { kind: 'redirect', location, accountName, via };
}

function targetOf(q: { mid?: string; module?: string; lang?: string }): EntryTarget {
  return { mid: q.mid || undefined, module: q.module || undefined, lang: q.lang === '1' ? 1 : q.lang === '0' ? 0 : undefined };
}

/** This tenant's SSO endpoint as the public reaches it (shared/config/public-url.ts). */
function selfUrl(deps: Pick<SignInDeps, 'ssoBaseUrl'>, tenant: TenantConfig, what: string): string {
  return publicUrl([tenant.sso.publicBaseUrl, deps.ssoBaseUrl], `/sso/${encodeURIComponent(tenant.id)}`, what);
}

/** The CAS service URL: configured, or this endpoint, keeping mid/module/lang so they survive the round trip. */
function casService(deps: Pick<SignInDeps, 'ssoBaseUrl'>, req: SignInRequest, configured: string | undefined): string {
  const url = new URL(configured ?? selfUrl(deps, req.tenant, 'the CAS service URL'));
  for (const k of ['mid', 'module', 'lang'] as const) {
    const v = req.query[k];
    if (v) url.searchParams.set(k, v);
  }
  return url.toString();
}

/**
 * Verify a signed OA link (shape, window, signature) and claim its nonce. Shared by SSO
 * and the unread count, which the portal calls with the same kind of link.
 */
export async function authenticateOaLink(
  deps: Pick<SignInDeps, 'once' | 'clock' | 'oaLinkSecret'>,
  tenant: TenantConfig,
  query: Record<string, string | undefined>,
  targetCheck?: OaLinkTargetCheck,
): Promise<OaLinkParams> {
  if (!tenant.sso.oaLink.enabled) throw new AuthError('SSO.OA_LINK_DISABLED', 'Signed OA links are disabled for this tenant.');
  const link = verifyOaLink({ tenantId: tenant.id, secret: await deps.oaLinkSecret(tenant), query, now: deps.clock.now(), windowSeconds: tenant.sso.windowSeconds, ...(targetCheck ? { targetCheck } : {}) });
  // Keep the nonce twice the window: a link can't be replayed while its ts is acceptable.
  const fresh = await deps.once.claim(tenant.id, 'nonce', link.nonce, tenant.sso.windowSeconds * 2);
  if (!fresh) throw new AuthError('SSO.REPLAYED', 'This sign-in link was already used. Go back to the portal and click the mail link again.');
  return link;
}
