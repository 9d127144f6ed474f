/**
 * HTTP client for the EKP org export REST service (reference sync-and-ekp.md Part A).
 *
 * One method per operation we use; each call is one HTTP request with a timeout, retried
 * with jittered backoff when the failure is transient (network, timeout, 429, 5xx).
 * Authentication follows the tenant's `ekp.auth` (§A7): HTTP Basic with the password from
 * the tenant's `ekp` secret, a key header with the secret's `apiKey`, or none.
 *
 * Nothing from a response body is logged, and errors carry only the operation, the host
 * and path, HTTP status and EKP's own error text (which never contains row data).
 */
import type { z } from 'zod';
import { NotConfiguredError, UpstreamError } from '../../errors/app-error';
import type { TenantConfig } from '../../config/tenant-config.schema';
import { secretName, secretSchemas } from '../../config/secrets';
import type { Logger } from '../../logging/logger';
import type { SecretStore } from '../../ports/secret-store';
import { describeUrl, httpRequest, isRetryableStatus, type HttpResponse } from '../http/http-request';
import { withRetry, type RetryOptions } from '../http/retry';
import {
  EKP_ORG_SERVICE_PATH,
  EKP_RETURN_STATE,
  EkpMessageFormatError,
  ekpBaseInfoSchema,
  ekpElementSchema,
  ekpEnvelopeSchema,
  encodeReturnOrgType,
  parseEkpMessageRows,
  type EkpBaseInfo,
  type EkpElement,
  type EkpEnvelope,
  type EkpOrgType,
  type EkpUpdatedElementsRequest,
} from './ekp.schema';

export type EkpConfig = NonNullable<TenantConfig['ekp']>;

/** The values of the tenant's `ekp` secret that the configured auth needs. */
export interface EkpCredentials {
  password?: string;
  apiKey?: string;
}

export interface EkpClientOptions {
  tenantId: string;
  config: EkpConfig;
  credentials: EkpCredentials;
  logger?: Logger;
  /** Retries after the first attempt for transient failures; default 3. */
  maxRetries?: number;
  /** Backoff tuning and test hooks (sleep, random). */
  retry?: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>;
}

/** One page of getUpdatedElements. */
export interface EkpUpdatedPage {
  /** Rows in server order (alterTime ascending), passwords already removed. */
  records: EkpElement[];
  /** The server's `timeStamp`: the last row's alterTime, or the begin echoed when empty. */
  timeStamp: string | undefined;
}

const VENDOR = 'ekp';

export class EkpClient {
  readonly tenantId: string;
  readonly config: EkpConfig;
  private readonly authHeaders: Record<string, string>;
  private readonly logger: Logger | undefined;
  private readonly maxRetries: number;
  private readonly retry: EkpClientOptions['retry'];

  constructor(opts: EkpClientOptions) {
    this.tenantId = opts.tenantId;
    this.config = opts.config;
    this.authHeaders = buildAuthHeaders(opts.tenantId, opts.config, opts.credentials);
    this.logger = opts.logger?.child({ vendor: VENDOR, tenant: opts.tenantId });
    this.maxRetries = opts.maxRetries ?? 3;
    this.retry = opts.retry;
  }

  /**
   * One call of `getUpdatedElements` for the given types: rows with
   * `alterTime > beginTimeStamp` (strict, §A6), oldest first, at most about `count`
   * (the v16.0.5+ server raises `count` to 10000 and cuts exactly there; older servers
   * run past `count` to the end of the current millisecond). Paging is the caller's job:
   * see drainFeed in ekp.feed.ts.
   */
  async getUpdatedElements(req: { types: readonly EkpOrgType[]; count: number; beginTimeStamp?: string; endTimeStamp?: string }): Promise<EkpUpdatedPage> {
    const body: EkpUpdatedElementsRequest = { returnOrgType: encodeReturnOrgType(req.types), count: req.count };
    // Leave beginTimeStamp out rather than sending "": the v16.0.5 reader adds
    // `fd_alter_time > ?` whenever the field is non-null, even when it is empty.
    if (req.beginTimeStamp) body.beginTimeStamp = req.beginTimeStamp;
    if (req.endTimeStamp) body.endTimeStamp = req.endTimeStamp;
    return this.call('getUpdatedElements', body, (env, rows) => ({
      records: parseRows(rows, ekpElementSchema, 'getUpdatedElements'),
      timeStamp: env.timeStamp ?? undefined,
    }));
  }

  /**
   * `getElementsBaseInfo`: id, name and type of every element of the given types that
   * exists now, including disabled ones (no isAvailable field). Used to find elements
   * that were physically deleted, which the change feed never reports (§A5).
   */
  async getElementsBaseInfo(types: readonly EkpOrgType[]): Promise<EkpBaseInfo[]> {
    return this.call('getElementsBaseInfo', { returnOrgType: encodeReturnOrgType(types) }, (_env, rows) =>
      parseRows(rows, ekpBaseInfoSchema, 'getElementsBaseInfo'),
    );
  }

  private async call<T>(op: string, body: object, read: (env: EkpEnvelope, rows: unknown[]) => T): Promise<T> {
    const url = `${this.config.baseUrl}${EKP_ORG_SERVICE_PATH}/${op}`;
    const where = `POST ${describeUrl(url)}`;
    return withRetry(
      async (attempt) => {
        const started = Date.now();
        const res = await httpRequest({
          vendor: VENDOR,
          url,
          method: 'POST',
          headers: { 'content-type': 'application/json;charset=UTF-8', accept: 'application/json', ...this.authHeaders },
          body: JSON.stringify(body),
          timeoutMs: this.config.timeoutMs,
        });
        checkStatus(res, where);
        const env = parseEnvelope(res, where);
        if (env.returnState !== EKP_RETURN_STATE.SUCCESS) {
          // returnState 1 carries EKP's own error text (e.g. "请求组织架构数据的条目数不能为空!"):
          // a request problem that retrying will not fix. 0 means "not operated".
          const text = typeof env.message === 'string' ? env.message.slice(0, 200) : '';
          throw new UpstreamError(VENDOR, 'EKP.REQUEST_FAILED', `ekp: ${where} returned returnState ${env.returnState}${text ? `: ${text}` : ''}`, { retryable: false });
        }
        let rows: unknown[];
        try {
          rows = parseEkpMessageRows(env.message);
        } catch (err) {
          // A cut-off body from a proxy is worth one more try.
          if (!(err instanceof EkpMessageFormatError)) throw err;
          throw new UpstreamError(VENDOR, 'EKP.BAD_RESPONSE', `ekp: ${where}: ${err.message}`, { retryable: true });
        }
        if (env.count !== undefined && env.count !== null && env.count !== rows.length) {
          throw new UpstreamError(VENDOR, 'EKP.BAD_RESPONSE', `ekp: ${where}: count says ${env.count} rows but message holds ${rows.length}`, { retryable: true });
        }
        const out = read(env, rows);
        this.logger?.debug('ekp call', { op, rows: rows.length, ms: Date.now() - started, attempt });
        return out;
      },
      {
        maxRetries: this.maxRetries,
        ...this.retry,
        onRetry: (err, attempt, delayMs) =>
          this.logger?.warn('ekp call failed, retrying', { op, attempt, delayMs, code: (err as { code?: string }).code, error: (err as Error).message }),
      },
    );
  }
}

/**
 * Build the client for a tenant, reading the `ekp` secret the configured auth needs.
 * Fails with NotConfiguredError (naming the secret, never a value) when it is missing.
 */
export async function createEkpClient(deps: {
  tenant: TenantConfig;
  secrets: SecretStore;
  stage: string;
  logger?: Logger;
  maxRetries?: number;
  retry?: EkpClientOptions['retry'];
}): Promise<EkpClient> {
  const { tenant } = deps;
  if (!tenant.ekp) throw new NotConfiguredError(`Tenant ${tenant.id} has no ekp section`, { code: 'EKP.NOT_CONFIGURED' });
  let credentials: EkpCredentials = {};
  if (tenant.ekp.auth.type !== 'none') {
    const name = secretName(deps.stage, tenant.id, 'ekp');
    const raw = await deps.secrets.getJson(name);
    const parsed = secretSchemas.ekp.safeParse(raw ?? {});
    if (!parsed.success) {
      throw new NotConfiguredError(`Secret ${name} is not a valid ekp secret (${parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')})`, { code: 'EKP.SECRET_INVALID' });
    }
    credentials = parsed.data;
  }
  return new EkpClient({ tenantId: tenant.id, config: tenant.ekp, credentials, logger: deps.logger, maxRetries: deps.maxRetries, retry: deps.retry });
}

function buildAuthHeaders(tenantId: string, config: EkpConfig, creds: EkpCredentials): Record<string, string> {
  const name = `the ${tenantId} ekp secret`;
  switch (config.auth.type) {
    case 'basic':
      if (!creds.password) throw new NotConfiguredError(`EKP auth is basic but ${name} has no password`, { code: 'EKP.SECRET_MISSING' });
      // §A7: the REST filter decodes `user:password` from Base64 (UTF-8). Some customers
      // configure DES-wrapping of this token; that is not supported here.
      return { authorization: `Basic ${Buffer.from(`${config.auth.username}:${creds.password}`, 'utf8').toString('base64')}` };
    case 'header':
      if (!creds.apiKey) throw new NotConfiguredError(`EKP auth is a key header but ${name} has no apiKey`, { code: 'EKP.SECRET_MISSING' });
      return { [config.auth.header.toLowerCase()]: creds.apiKey };
    case 'none':
      return {};
  }
}

function checkStatus(res: HttpResponse, where: string): void {
  if (res.status >= 200 && res.status < 300) return;
  // §A7: the REST filter answers 401 (wrong user/password, or the frequency limit),
  // 403 (IP not on the policy's allowlist), 404 (unknown or stopped service), 413 (body
  // too large). None of these improve with a retry; an operator has to act.
  if (res.status === 401 || res.status === 403) {
    const why = res.status === 401 ? 'rejected the credentials' : 'refused this client (IP allowlist?)';
    throw new UpstreamError(VENDOR, 'EKP.AUTH_FAILED', `ekp: ${where} ${why} (HTTP ${res.status}); check the tenant's ekp auth, its secret and the REST service policy`, { retryable: false });
  }
  if (res.status === 404) {
    throw new UpstreamError(VENDOR, 'EKP.NOT_FOUND', `ekp: ${where} answered 404; check ekp.baseUrl and that the org export REST service is started`, { retryable: false });
  }
  throw new UpstreamError(VENDOR, isRetryableStatus(res.status) ? 'EKP.UNAVAILABLE' : 'EKP.HTTP_ERROR', `ekp: ${where} answered HTTP ${res.status}`, {
    retryable: isRetryableStatus(res.status),
  });
}

function parseEnvelope(res: HttpResponse, where: string): EkpEnvelope {
  let doc: unknown;
  try {
    doc = JSON.parse(res.text);
  } catch {
    // A 200 HTML page is usually EKP's login form: the service policy is not "user" or
    // the path is behind SSO. Say so instead of "Unexpected token <".
    const type = res.headers.get('content-type') ?? 'unknown type';
    const hint = /html/i.test(type) || /^\s*</.test(res.text) ? ' (an HTML page: often the EKP login form; check the REST service policy)' : '';
    // A login page needs an operator; anything else (a body cut off by a proxy) may pass on a retry.
    throw new UpstreamError(VENDOR, 'EKP.BAD_RESPONSE', `ekp: ${where} returned a non-JSON body of ${type}${hint}`, { retryable: hint === '' });
  }
  const env = ekpEnvelopeSchema.safeParse(doc);
  if (!env.success) {
    throw new UpstreamError(VENDOR, 'EKP.BAD_RESPONSE', `ekp: ${where} returned an unexpected body (${env.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')})`, { retryable: false });
  }
  return env.data;
}

function parseRows<S extends z.ZodType>(rows: unknown[], schema: S, op: string): Array<z.output<S>> {
  const out: Array<z.output<S>> = [];
  for (let i = 0; i < rows.length; i++) {
    const r = schema.safeParse(rows[i]);
    if (!r.success) {
      // Name the row by id and the failing fields only: values may be personal data.
      const row = rows[i] as { id?: unknown } | null;
      const id = row && typeof row === 'object' && (typeof row.id === 'string' || typeof row.id === 'number') ? String(row.id) : `#${i}`;
      const fields = r.error.issues.map((iss) => `${iss.path.join('.') || '(row)'} ${iss.message}`).join('; ');
      throw new UpstreamError(VENDOR, 'EKP.BAD_RECORD', `ekp: ${op} row ${id} is invalid: ${fields}`, { retryable: false });
    }
    out.push(r.data);
  }
  return out;
}
