/**
 * HTTP plumbing shared by the vendor simulators (NetEase, DingTalk, WeCom, EKP): reading
 * bodies with a size limit, JSON and HTML answers, the control API's body parsing and
 * tenant choice, and starting and stopping a loopback server. What each vendor answers
 * (envelopes, error codes, routes) stays in its own simulator.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import type { RunningSimulator, SimulatorModule, SimulatorStartOptions, SimulatorVendor } from './simulator';

/** Largest request body a simulator reads (1 MiB): enough for any vendor call we make. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** `application/json; charset=utf-8`: the DingTalk and WeCom simulators' answers. */
export const JSON_TYPE = 'application/json; charset=utf-8';
/** `application/json;charset=UTF-8`, as the Java servers behind NetEase and EKP write it. */
export const JAVA_JSON_TYPE = 'application/json;charset=UTF-8';

/** The request body as UTF-8, or undefined when it is larger than `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Answer `text` with its length; nothing when the answer went out already or the connection is gone. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = JSON_TYPE): void {
  sendText(res, status, contentType, JSON.stringify(body));
}

/** A page of the simulator's own (sign-in picker, error): never framed by another site. */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  sendText(res, status, 'text/html; charset=utf-8', html, { 'x-frame-options': 'DENY' });
}

/** A 302 to `location` that no cache keeps (sign-in redirects carry single-use codes). */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The caller's IP as a vendor would print it (IPv4-mapped IPv6 unwrapped). */
export function remoteIp(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

// ---- control API ---------------------------------------------------------------------------

/** A control-API refusal (HTTP status + message), never a vendor envelope. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A control-API JSON body: {} when empty; a ControlError (400) when not a JSON object. */
export function parseControlBody(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ControlError(400, 'body must be JSON');
  }
  if (!isRecord(v)) throw new ControlError(400, 'body must be a JSON object');
  return v;
}

/** Zod issues as `path: message` lines; `root` names an issue about the whole body. */
export function describeIssues(err: z.ZodError, root = '(body)'): string[] {
  return err.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`);
}

/**
 * The tenant a control call is about: the one named, or the only one served.
 * `vendor` names the simulator in the refusal ("no DingTalk tenant x here").
 */
export function pickTenant<R>(tenants: ReadonlyMap<string, R>, id: unknown, vendor: string): R {
  const have = (): string => [...tenants.keys()].join(', ') || 'none';
  if (typeof id === 'string' && id) {
    const found = tenants.get(id);
    if (!found) throw new ControlError(404, `no ${vendor} tenant ${id} here (have: ${have()})`);
    return found;
  }
  if (tenants.size === 1) return [...tenants.values()][0] as R;
  throw new ControlError(400, `tenant is required (one of: ${have()})`);
}

/** What the local stack's start options mean for a simulator's own options. */
export function fromStackOptions(opts: SimulatorStartOptions): Pick<SimulatorStartOptions, 'host' | 'port' | 'tenants' | 'secrets' | 'stage' | 'dataDir' | 'logger'> {
  return { host: opts.host, port: opts.port, tenants: opts.tenants, secrets: opts.secrets, stage: opts.stage, dataDir: opts.dataDir, logger: opts.logger };
}

/** The local stack's module for a simulator that tests start themselves with `start`. */
export function stackSimulator(vendor: SimulatorVendor, start: (opts: ReturnType<typeof fromStackOptions>) => Promise<RunningSimulator>): SimulatorModule {
  return { vendor, start: (opts) => start(fromStackOptions(opts)) };
}

// ---- routing by the tenants' base URL paths ---------------------------------------------------

/** `url` moved onto `simUrl`, keeping its path (tests point a tenant at a simulator on a random port). */
export function rebaseUrl(url: string, simUrl: string): string {
  return `${simUrl}${new URL(url).pathname.replace(/\/+$/, '')}`;
}

/**
 * A copy of `tenant` whose `vendor` URLs (`keys`) point at `simUrl`, keeping their paths
 * (tests start a simulator on a random port, then build clients with this); `tenant` itself
 * when it has no such section.
 */
export function pointTenantAt<T extends TenantConfig, V extends 'dingtalk' | 'wecom'>(tenant: T, simUrl: string, vendor: V, keys: ReadonlyArray<keyof NonNullable<TenantConfig[V]> & string>): T {
  const section = tenant[vendor] as Record<string, unknown> | undefined;
  if (!section) return tenant;
  const moved = Object.fromEntries(keys.map((k) => [k, rebaseUrl(section[k] as string, simUrl)]));
  return { ...tenant, [vendor]: { ...section, ...moved } };
}

/**
 * Finds which of a vendor's services (roles) a path is for, from the path prefixes of the
 * tenants' base URLs (e.g. DingTalk's apiBaseUrl and newApiBaseUrl on one port), longest
 * prefix first, so `/api/v1.0/…` matches before `/…`.
 */
export class PrefixRouter<Role extends string> {
  private readonly prefixes: Array<{ prefix: string; role: Role }> = [];

  constructor(private readonly routes: Readonly<Record<Role, ReadonlySet<string>>>) {}

  /** Serve `role` under the path of `baseUrl`. */
  add(baseUrl: string, role: Role): void {
    this.addPrefix(new URL(baseUrl).pathname.replace(/\/+$/, ''), role);
  }

  addPrefix(prefix: string, role: Role): void {
    if (!this.prefixes.some((p) => p.prefix === prefix && p.role === role)) this.prefixes.push({ prefix, role });
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get size(): number {
    return this.prefixes.length;
  }

  /** The role and the path below its prefix, when that path is one of the role's routes. */
  resolve(path: string): { role: Role; rest: string } | undefined {
    for (const { prefix, role } of this.prefixes) {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
      const rest = path.slice(prefix.length) || '/';
      if (this.routes[role].has(rest)) return { role, rest };
    }
    return undefined;
  }
}

// ---- server ------------------------------------------------------------------------------------

export type SimHandler = (req: IncomingMessage, res: ServerResponse, url: URL, bodyText: string) => Promise<void> | void;

/**
 * An HTTP server that reads each body (413 beyond MAX_BODY_BYTES, answered in
 * `jsonType`) before calling `handler`. The handler maps its own errors to answers;
 * anything that still escapes drops the connection.
 */
export function createSimServer(handler: SimHandler, opts: { jsonType?: string } = {}): Server {
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://simulator');
      const bodyText = await readBody(req);
      if (bodyText === undefined) return sendJson(res, 413, { error: 'body too large' }, opts.jsonType);
      await handler(req, res, url, bodyText);
    })().catch(() => res.destroy());
  });
}

export interface ListeningServer {
  port: number;
  /** e.g. http://127.0.0.1:3102 */
  url: string;
  /** Drop open connections and stop listening; resolves also when already stopped. */
  close(): Promise<void>;
}

/** Listen on `host`:`port` (0 = a free port; tests). */
export async function listen(server: Server, host = '127.0.0.1', port = 0): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
