/**
 * The tenant config file the deployer edits (config/tenants.json).
 *
 * A tenant is one NetEase mail domain plus the sources that feed it (an EKP, a DingTalk
 * org, a WeCom corp). Every vendor endpoint comes from here, so a tenant can point at the
 * real services or at the local simulators. No secret value lives in this file: secrets
 * are stored per tenant in Secrets Manager (or the local file store) under the names
 * given by `secretName()` in shared/config/secrets.ts.
 */
import { aliasesSchema, checkMailFeatures, mailListsSchema } from './maillists.schema';
import { z } from 'zod';
import { CronSyntaxError, isTimeZone, parseCron } from '../domain/cron';
import { publicBaseUrlSchema } from './public-url';
import { mailboxPolicyShape } from './mailbox-policies.schema';

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http(s) URL' })
  .transform((u) => u.replace(/\/+$/, ''));

export const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$/;

/** NetEase hosts per region (reference netease-qiye-api.md §1-3). */
export const NETEASE_REGION_DEFAULTS = {
  hz: {
    apiBaseUrl: 'https://apihz.qiye.163.com/qiyeservice/api',
    ssoEntryUrl: 'https://entryhz.qiye.163.com/domain/oa/Entry',
    unreadUrl: 'https://cmhz.qiye.163.com/oaserver/user/getUnreadMsg',
  },
  bj: {
    apiBaseUrl: 'https://apibj.qiye.163.com/qiyeservice/api',
    ssoEntryUrl: 'https://entry.qiye.163.com/domain/oa/Entry',
    unreadUrl: 'https://cm.qiye.163.com/oaserver/user/getUnreadMsg',
  },
} as const;

const neteaseSchema = z
  .object({
    /** The mail domain, e.g. `acme.com`. */
    domain: z
      .string()
      .regex(/^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a domain name such as acme.com')
      .transform((d) => d.toLowerCase()),
    /** `product` (the company id, "cid") issued by NetEase; not derivable from the domain. */
    product: z.string().min(1, 'is issued by NetEase and required'),
    /** hz (华东) or bj (华北); picks the default hosts. */
    region: z.enum(['hz', 'bj']),
    apiBaseUrl: httpUrl.optional(),
    ssoEntryUrl: httpUrl.optional(),
    unreadUrl: httpUrl.optional(),
    /**
     * Local stack only: a loopback URL here starts this vendor's simulator unless this is
     * false (a real service on this machine, e.g. an SSH tunnel to the vendor's test system).
     */
    simulate: z.boolean().optional(),
    /** RSA key size used by `keys generate`. Every observed integration uses 1024. */
    keyBits: z.union([z.literal(1024), z.literal(2048)]).default(1024),
    /** Client-side rate limit for API calls, per tenant. */
    requestsPerSecond: z.number().positive().max(1000).default(20),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    maxRetries: z.number().int().min(0).max(10).default(4),
    /**
     * Optional: NetEase's open platform (reference netease-qiye-api.md §4), used only to move
     * units under another parent, which the legacy API cannot do. Takes effect when the
     * tenant's `netease` secret also holds the app's `authCode`; without the block (or the
     * authCode) unit moves are reported as unsupported. Off by default: the §4 facts come
     * from community integrations, not a NetEase specification.
     */
    openPlatform: z
      .object({
        baseUrl: httpUrl.default('https://api.qiye.163.com'),
        /** The open-platform app id NetEase issued. */
        appId: z.string().min(1, 'is issued by NetEase and required'),
        /** The organisation's open id NetEase issued. */
        orgOpenId: z.string().min(1, 'is issued by NetEase and required'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .transform((n) => ({
    ...n,
    apiBaseUrl: n.apiBaseUrl ?? NETEASE_REGION_DEFAULTS[n.region].apiBaseUrl,
    ssoEntryUrl: n.ssoEntryUrl ?? NETEASE_REGION_DEFAULTS[n.region].ssoEntryUrl,
    unreadUrl: n.unreadUrl ?? NETEASE_REGION_DEFAULTS[n.region].unreadUrl,
  }));

const ekpSchema = z
  .object({
    baseUrl: httpUrl,
    /** Basic auth (user name here, password in the tenant's ekp secret) or a key header. */
    auth: z.discriminatedUnion('type', [
      z.object({ type: z.literal('basic'), username: z.string().min(1) }).strict(),
      z.object({ type: z.literal('header'), header: z.string().min(1).default('X-Api-Key') }).strict(),
      z.object({ type: z.literal('none') }).strict(),
    ]),
    /**
     * Local stack only: a loopback URL here starts this vendor's simulator unless this is
     * false (a real service on this machine, e.g. an SSH tunnel to the vendor's test system).
     */
    simulate: z.boolean().optional(),
    pageSize: z.number().int().min(10).max(5000).default(500),
    timeoutMs: z.number().int().min(100).max(120_000).default(30_000),
  })
  .strict();

const dingtalkSchema = z
  .object({
    corpId: z.string().min(1),
    appKey: z.string().min(1),
    agentId: z.string().min(1),
    apiBaseUrl: httpUrl.default('https://oapi.dingtalk.com'),
    newApiBaseUrl: httpUrl.default('https://api.dingtalk.com'),
    loginBaseUrl: httpUrl.default('https://login.dingtalk.com'),
    /**
     * The DingTalk JSAPI script the workbench sign-in page loads (`dd.runtime.permission.
     * requestAuthCode`). DingTalk serves it from its CDN; check the current URL in DingTalk's
     * H5 docs and set it here (or host the npm package `dingtalk-jsapi` yourself).
     */
    jsapiUrl: httpUrl.default('https://g.alicdn.com/dingding/dingtalk-jsapi/3.2.9/dingtalk.open.js'),
    /**
     * Local stack only: a loopback URL here starts this vendor's simulator unless this is
     * false (a real service on this machine, e.g. an SSH tunnel to the vendor's test system).
     */
    simulate: z.boolean().optional(),
    /** DingTalk's limit is 20 calls/s per app and API; stay under it. */
    requestsPerSecond: z.number().positive().max(20).default(15),
    /**
     * Metered API calls the organisation may make per calendar month (reference dingtalk.md
     * §8: 10,000 on the free edition; paid editions and add-on packs raise it). 0 = unlimited.
     * `usage` projects against it; raising it after a 90020 resumes the work at once.
     */
    monthlyQuota: z.number().int().min(0).max(1_000_000_000).default(10_000),
  })
  .strict();

const wecomSchema = z
  .object({
    corpId: z.string().min(1),
    agentId: z.string().min(1),
    apiBaseUrl: httpUrl.default('https://qyapi.weixin.qq.com/cgi-bin'),
    oauthBaseUrl: httpUrl.default('https://open.weixin.qq.com'),
    loginBaseUrl: httpUrl.default('https://login.work.weixin.qq.com'),
    /**
     * Local stack only: a loopback URL here starts this vendor's simulator unless this is
     * false (a real service on this machine, e.g. an SSH tunnel to the vendor's test system).
     */
    simulate: z.boolean().optional(),
    requestsPerSecond: z.number().positive().max(100).default(20),
  })
  .strict();

const ssoSchema = z
  .object({
    /** Signed OA links (HMAC-SHA256 with the secret in the tenant's oa secret). */
    oaLink: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
    /** CAS server; the bridge redirects there and validates with /p3/serviceValidate. */
    cas: z.object({ baseUrl: httpUrl, serviceUrl: httpUrl.optional() }).strict().optional(),
    /** How long a signed link or nonce stays valid. */
    windowSeconds: z.number().int().min(30).max(3600).default(300),
    /** Resolve unmapped users by this rule, or refuse them ('none'). */
    fallbackRule: z.enum(['none', 'emailLocalPart', 'loginName']).default('none'),
    /** 0 Chinese, 1 English (NetEase `lang`). */
    lang: z.union([z.literal(0), z.literal(1)]).default(0),
    /**
     * Where browsers and vendors reach this tenant's SSO endpoint (`<publicBaseUrl>/sso/<tenant>`):
     * the DingTalk/WeCom OAuth `redirect_uri`, the CAS service and the unread widget's "open
     * mailbox" link are built from it. Default: the deployment's SSO Function URL, else its
     * HTTP API URL (stack outputs). Set it for a custom domain, or where the vendor's trusted
     * domain (WeCom 可信域名, DingTalk redirect whitelist) is not the default one. https only
     * (http on a loopback address for the local stack). See shared/config/public-url.ts.
     */
    publicBaseUrl: publicBaseUrlSchema.optional(),
  })
  .strict();

const unreadSchema = z
  .object({
    cacheSeconds: z.number().int().min(0).max(3600).default(60),
    /** Portal origins allowed to call the JSON route (CORS) and to frame the widget; "*" = any. */
    corsOrigins: z
      .array(z.string().regex(/^(\*|https?:\/\/[a-z0-9.-]+(:\d{1,5})?)$/i, 'must be "*" or an origin such as https://oa.example.com (no path)'))
      .default([]),
  })
  .strict();

const thresholdSchema = z
  .object({
    count: z.number().int().min(0).default(50),
    percent: z.number().min(0).max(100).default(5),
    /**
     * The percent rule applies only from this many suspensions/deletions (per object type):
     * without it a tenant under 20 people parks on one leaver at 5%. The count rule and the
     * empty / half-size guards apply regardless (shared/domain/safety.ts).
     */
    minimum: z.number().int().min(0).default(10),
  })
  .strict();

/**
 * When the tenant's scheduled runs happen (one schedule per tenant, built from this by the
 * deployment and the local stack: shared/contracts/app-manifest.ts tenantSyncSchedules).
 * Callback sources (DingTalk, WeCom) learn changes from contact callbacks and reconcile with
 * a full run on `fullCron`; EKP has no callbacks and also runs incrementally every
 * `incrementalMinutes`. A DingTalk or WeCom "incremental" run would be a full snapshot
 * (they have no change feed), so it is refused for them.
 */
const DEFAULT_FULL_CRON = '0 2 * * *';
const scheduleSchema = z
  .object({
    /** IANA time zone of `fullCron`, e.g. Asia/Shanghai (no daylight saving: +08:00). */
    timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Asia/Shanghai').default('Asia/Shanghai'),
    /** The full (reconcile) run: 5-field cron in `timezone`; default nightly at 02:00. */
    fullCron: z
      .string()
      .superRefine((v, ctx) => {
        try {
          parseCron(v);
        } catch (err) {
          if (!(err instanceof CronSyntaxError)) throw err;
          ctx.addIssue({ code: 'custom', message: err.message });
        }
      })
      .default(DEFAULT_FULL_CRON),
    /** EKP only: minutes between incremental runs (default: the deployment's syncRateMinutes, 15). */
    incrementalMinutes: z.number().int().min(1).max(1440).optional(),
  })
  .strict();

const syncSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Which source is the directory of record for this tenant. */
    source: z.enum(['ekp', 'dingtalk', 'wecom']).optional(),
    /** How NetEase account names are derived. */
    accountNameRule: z.enum(['emailLocalPart', 'loginName', 'jobNumber']).default('emailLocalPart'),
    /** Attributes used to adopt existing mailboxes, after the account name. */
    matchAttributes: z.array(z.enum(['email', 'jobNumber', 'mobile'])).default(['email', 'jobNumber', 'mobile']),
    onlyWithEmail: z.boolean().default(false),
    includeDepartments: z.array(z.string().min(1)).default([]),
    excludeDepartments: z.array(z.string().min(1)).default([]),
    deleteThreshold: thresholdSchema.default({ count: 50, percent: 5, minimum: 10 }),
    /** Days a leaver stays suspended before deleteAccountSim. */
    suspendGraceDays: z.number().int().min(0).max(365).default(30),
    /**
     * Mail domains, besides netease.domain, whose addresses count as company addresses for
     * naming, matching and onlyWithEmail. Any other address (qq.com, 163.com) is ignored.
     */
    acceptedEmailDomains: z.array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i, 'must be a domain such as example.com')).default([]),
    /** Full runs compare the mapping with NetEase: `repair` the drift (default) or only `report` it (the run ends warning). */
    driftMode: z.enum(['repair', 'report']).default('repair'),
    schedule: scheduleSchema.default(scheduleSchema.parse({})),
    /**
     * The nightly full (reconcile) run's cron, as issue 9 names it: the same setting as
     * `schedule.fullCron` (one setting, one cron parser); given here it is copied there.
     */
    fullRunCron: z.string().optional(),
    ...mailboxPolicyShape,
    /** Department mailing lists and aliases from the source (maillists.schema.ts). */
    mailLists: mailListsSchema.optional(),
    aliases: aliasesSchema.optional(),
  })
  .strict()
  .transform((s, ctx) => {
    if (s.fullRunCron === undefined) return s;
    const { fullRunCron, ...rest } = s;
    const parsed = scheduleSchema.shape.fullCron.safeParse(fullRunCron);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['fullRunCron'], message: issue.message });
      return z.NEVER;
    }
    if (s.schedule.fullCron !== DEFAULT_FULL_CRON && s.schedule.fullCron !== fullRunCron) {
      ctx.addIssue({ code: 'custom', path: ['fullRunCron'], message: `says "${fullRunCron}" but schedule.fullCron says "${s.schedule.fullCron}": give one of them` });
      return z.NEVER;
    }
    return { ...rest, schedule: { ...s.schedule, fullCron: parsed.data } };
  });

/**
 * Where people sign in and get notices, apart from the directory source (`sync.source`).
 * The top-level `dingtalk` / `wecom` sections are channels already (ids `dingtalk`, `wecom`);
 * `channels` adds more, e.g. one DingTalk org per subsidiary over one mail domain. Each
 * extra channel's app secret lives in its own secret (shared/config/channels.ts).
 */
export const CHANNEL_ID = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;
const channelIdSchema = z
  .string()
  .regex(CHANNEL_ID, 'must be 2-32 characters of a-z, 0-9 and -')
  .refine((id) => id !== 'dingtalk' && id !== 'wecom', { message: 'is reserved for the top-level dingtalk / wecom section' });
/**
 * How a channel user is matched to one person of the source (shared/domain/identity-match.ts):
 * an ordered rule list, first rule that finds anyone decides; two candidates = ambiguous.
 */
const matchRulesSchema = z
  .array(z.string().regex(/^(userid|jobNumber|mobile|email|loginName)(=(id|jobNumber|mobile|email|loginName))?$/, 'must be an attribute (jobNumber, mobile, email, loginName) or channelAttr=sourceAttr such as userid=loginName'))
  .min(1);

/**
 * An extra channel may match by its own rules (`links.rules`), e.g. a subsidiary's DingTalk org
 * that numbers its staff its own way, whose job numbers would otherwise meet other people's
 * in the source. Without it the tenant's `links.rules` apply.
 */
const channelLinksSchema = z.object({ rules: matchRulesSchema }).strict();
const channelSchema = z.discriminatedUnion('vendor', [
  dingtalkSchema.extend({ vendor: z.literal('dingtalk'), id: channelIdSchema, links: channelLinksSchema.optional() }).strict(),
  wecomSchema.extend({ vendor: z.literal('wecom'), id: channelIdSchema, links: channelLinksSchema.optional() }).strict(),
]);

const linksSchema = z
  .object({
    /** Every channel's rules, unless the channel has its own (`channels[].links.rules`). */
    rules: matchRulesSchema.default(['jobNumber', 'mobile', 'email']),
    /** Whom an unlinked person should ask (shown on the refusal page), e.g. "IT 服务台 ext. 8000". */
    helpContact: z.string().min(1).max(200).optional(),
  })
  .strict();

const notificationsSchema = z
  .object({
    enabled: z.boolean().default(false),
    channel: z.enum(['dingtalk', 'wecom']).optional(),
    /** Notify everyone (true) or only people who opted in (false). */
    tenantWide: z.boolean().default(false),
    /**
     * Digest mode: fold a person's new mails into one message per this many minutes
     * (0 = one message per mail). Switches on by itself, at `autoDigestMinutes`, while the
     * channel's metered calls are projected past the monthly quota (use-cases/usage).
     */
    digestMinutes: z.number().int().min(0).max(24 * 60).default(0),
    /** The digest window used when the projection passes the quota and `digestMinutes` is 0. */
    autoDigestMinutes: z.number().int().min(1).max(24 * 60).default(60),
  })
  .strict();

/**
 * Who may use the operator console for this tenant, and where its alerts go
 * (functions/http/console, functions/schedule/alerts). An identity is `<via>:<user id>`, as
 * the console's sign-in establishes it: `dingtalk:<userid>`, `wecom:<UserID>`, `cas:<user>`
 * or `oa:<OA user id>`. Roles are read on every request, so removing someone here ends
 * their access at once (their session stays, but authorizes nothing).
 */
export const CONSOLE_IDENTITY = /^(dingtalk|wecom|cas|oa):[^\s]{1,128}$/;
const consoleIdentity = z.string().regex(CONSOLE_IDENTITY, 'must be "<dingtalk|wecom|cas|oa>:<user id>", e.g. dingtalk:manager4021');

const consoleSchema = z
  .object({
    /** Tenant admins: read everything of this tenant, approve / reject, sync now, redrive. */
    admins: z.array(consoleIdentity).default([]),
    /** Auditors: read-only. */
    auditors: z.array(consoleIdentity).default([]),
    alerts: z
      .object({
        /**
         * `dingtalk`: a DingTalk work notice to `recipients` (default: the admins who sign in
         * through DingTalk); `wecom`: a WeCom app message, likewise; `robot`: a group robot
         * webhook (its URL, and the DingTalk signing secret, in the tenant's `alerts` secret);
         * `none`: the SNS alarm topic only.
         */
        channel: z.enum(['none', 'dingtalk', 'wecom', 'robot']).default('none'),
        /** DingTalk / WeCom user ids to notify; default: the admins of that vendor. */
        recipients: z.array(z.string().regex(/^[^\s,|]{1,64}$/, 'must be a user id (no spaces, commas or |)')).max(100).optional(),
        /** Which vendor's group robot the `alerts` secret's webhook belongs to. */
        robot: z.enum(['dingtalk', 'wecom']).optional(),
        /** A planning / applying run that has not moved for this long is reported stuck. */
        stuckMinutes: z.number().int().min(5).max(24 * 60).default(30),
        /**
         * Report when no contact callback was applied for this many hours. Leave it out for a
         * tenant that does not expect callbacks (EKP, or a quiet directory).
         */
        callbackSilenceHours: z.number().int().min(1).max(24 * 14).optional(),
      })
      .strict()
      .default({ channel: 'none', stuckMinutes: 30 }),
  })
  .strict();

export const tenantSchema = z
  .object({
    id: z.string().regex(TENANT_ID, 'must be 3-32 characters of a-z, 0-9 and -, starting and ending with a letter or digit'),
    displayName: z.string().min(1).optional(),
    netease: neteaseSchema,
    ekp: ekpSchema.optional(),
    dingtalk: dingtalkSchema.optional(),
    wecom: wecomSchema.optional(),
    sso: ssoSchema.default(ssoSchema.parse({})),
    unread: unreadSchema.default(unreadSchema.parse({})),
    sync: syncSchema.default(syncSchema.parse({})),
    notifications: notificationsSchema.default(notificationsSchema.parse({})),
    console: consoleSchema.default(consoleSchema.parse({})),
    channels: z.array(channelSchema).default([]),
    links: linksSchema.default(linksSchema.parse({})),
  })
  .strict()
  .superRefine((t, ctx) => {
    checkMailFeatures(t, ctx);
    const ids = new Set<string>();
    t.channels.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'id'], message: `duplicates channel id "${c.id}"` });
      ids.add(c.id);
    });
    const src = t.sync.source;
    if (src && !t[src]) {
      ctx.addIssue({ code: 'custom', path: ['sync', 'source'], message: `is "${src}" but the tenant has no "${src}" section` });
    }
    const effective = src ?? onlySource(t);
    if (effective && effective !== 'ekp' && t.sync.schedule.incrementalMinutes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sync', 'schedule', 'incrementalMinutes'], message: `is for EKP only: a ${effective} source learns changes from callbacks, and a scheduled ${effective} run is a full snapshot (use fullCron)` });
    }
    const ch = t.notifications.channel;
    if (t.notifications.enabled && !ch) {
      ctx.addIssue({ code: 'custom', path: ['notifications', 'channel'], message: 'is required when notifications are enabled' });
    }
    if (ch && !t[ch] && !t.channels.some((c) => c.vendor === ch)) {
      ctx.addIssue({ code: 'custom', path: ['notifications', 'channel'], message: `is "${ch}" but the tenant has no "${ch}" section or channel` });
    }
    const alerts = t.console.alerts;
    if ((alerts.channel === 'dingtalk' || alerts.channel === 'wecom') && !t[alerts.channel]) {
      ctx.addIssue({ code: 'custom', path: ['console', 'alerts', 'channel'], message: `is "${alerts.channel}" but the tenant has no "${alerts.channel}" section` });
    }
    if (alerts.channel === 'robot' && !alerts.robot) {
      ctx.addIssue({ code: 'custom', path: ['console', 'alerts', 'robot'], message: 'is required when the channel is "robot" (dingtalk or wecom)' });
    }
  })
  .transform((t) => ({
    ...t,
    // The sync source defaults to the only configured source, if there is exactly one.
    sync: { ...t.sync, source: t.sync.source ?? onlySource(t) },
  }));

function onlySource(t: { ekp?: unknown; dingtalk?: unknown; wecom?: unknown }): 'ekp' | 'dingtalk' | 'wecom' | undefined {
  const present = (['ekp', 'dingtalk', 'wecom'] as const).filter((k) => t[k] !== undefined);
  return present.length === 1 ? present[0] : undefined;
}

export const tenantsFileSchema = z
  .object({
    $schema: z.string().optional(),
    tenants: z.array(tenantSchema).min(1, 'declare at least one tenant'),
    /**
     * Deployment admins: people who may act on every tenant in the console, each as
     * `<tenant id>/<via>:<user id>` (the tenant they sign in through). The break-glass
     * link (`qiye-bridge console link`) signs in a deployment admin without any of these.
     */
    console: z
      .object({ deploymentAdmins: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]\/(dingtalk|wecom|cas|oa):[^\s]{1,128}$/, 'must be "<tenant id>/<via>:<user id>"')).default([]) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const seenIds = new Map<string, number>();
    const seenDomains = new Map<string, number>();
    f.tenants.forEach((t, i) => {
      if (seenIds.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'id'], message: `duplicates tenants[${seenIds.get(t.id)}].id "${t.id}"` });
      else seenIds.set(t.id, i);
      const d = t.netease.domain;
      if (seenDomains.has(d)) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'netease', 'domain'], message: `duplicates tenants[${seenDomains.get(d)}].netease.domain "${d}"` });
      else seenDomains.set(d, i);
    });
  });

export type TenantsFile = z.output<typeof tenantsFileSchema>;
export type TenantConfig = TenantsFile['tenants'][number];
export type SourceKind = 'ekp' | 'dingtalk' | 'wecom';
