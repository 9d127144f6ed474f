/**
 * The control API the org simulators (DingTalk, WeCom) share: the same routes and answers,
 * with the vendor's own org model, user and department fields and auth codes behind them.
 * `tenant` may be omitted when only one tenant is served.
 *
 *   GET    /__sim/health
 *   GET    /__sim/state?tenant=
 *   POST   /__sim/users        {tenant?, ...the vendor's user fields}      201 created, 200 updated
 *   DELETE /__sim/users/:userid?tenant=
 *   POST   /__sim/departments  {tenant?, ...the vendor's department fields}
 *   DELETE /__sim/departments/:id?tenant=
 *   GET    /__sim/faults?tenant=  POST /__sim/faults (see sim-faults.ts)
 *   GET    /__sim/messages?tenant=
 *   POST   /__sim/reset        {tenant?}
 *   POST   /__sim/auth-code    {tenant?, ...}  → {code, expiresIn}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../../shared/logging/logger';
import { errcodeFaultsSchema, type ErrcodeFaultsInput, type ErrcodeSimFaults } from './sim-faults';
import { ControlError, createSimServer, describeIssues, listen, parseControlBody, sendJson, type PrefixRouter } from './sim-http';
import type { RunningSimulator, SimulatorVendor } from './simulator';

/** What a simulator's tenant runtime holds that the control API reads. */
export interface OrgRuntime {
  faults: ErrcodeSimFaults;
  org: { messages: readonly unknown[] };
}

/** The vendor-specific half of the control API. */
export interface OrgControl<Rt extends OrgRuntime, View = unknown> {
  vendor: SimulatorVendor;
  tenantIds(): string[];
  /** The tenant named, or the only one (else a ControlError). */
  runtimeFor(id: unknown): Rt;
  view(rt: Rt): View;
  /** POST /__sim/faults: the vendor's own faults on top of the shared ones; default errcodeFaultsSchema. */
  faultsSchema?: z.ZodType<ErrcodeFaultsInput>;
  setFaults(input: ErrcodeFaultsInput): ErrcodeSimFaults;
  reset(tenant?: string): void;
  /** Validate the body (zod) and create or update the user. */
  upsertUser(body: Record<string, unknown>): { created: boolean };
  upsertDepartment(body: Record<string, unknown>): { created: boolean };
  removeUser(rt: Rt, userId: string): unknown;
  removeDepartment(rt: Rt, id: number): unknown;
  /** Validate the body (zod) and mint a sign-in code. */
  mintAuthCode(body: Record<string, unknown>): string;
  authCodeTtlSeconds: number;
  /** The org changed: persist it soon. */
  scheduleSave(): void;
}

const resetSchema = z.object({ tenant: z.string().min(1).optional() }).strict();

/** Answer one /__sim/ call. Refusals are thrown (ControlError, ZodError) for the caller to answer. */
function handleOrgControl<Rt extends OrgRuntime>(ctl: OrgControl<Rt>, req: IncomingMessage, res: ServerResponse, url: URL, bodyText: string): void {
  const body = (): Record<string, unknown> => parseControlBody(bodyText);
  const q = (k: string): string | undefined => url.searchParams.get(k) ?? undefined;
  const m = /^\/__sim\/(users|departments)\/([^/]+)$/.exec(url.pathname);
  if (m && req.method === 'DELETE') {
    const rt = ctl.runtimeFor(q('tenant'));
    const id = decodeURIComponent(m[2] as string);
    if (m[1] === 'users') {
      const removed = ctl.removeUser(rt, id);
      ctl.scheduleSave();
      return sendJson(res, 200, { removed });
    }
    if (!/^\d+$/.test(id)) throw new ControlError(400, 'department id must be a number');
    const removed = ctl.removeDepartment(rt, Number(id));
    ctl.scheduleSave();
    return sendJson(res, 200, { removed });
  }
  switch (`${req.method} ${url.pathname}`) {
    case 'GET /__sim/health':
      return sendJson(res, 200, { ok: true, vendor: ctl.vendor, tenants: ctl.tenantIds() });
    case 'GET /__sim/state':
      return sendJson(res, 200, ctl.view(ctl.runtimeFor(q('tenant'))));
    case 'POST /__sim/users': {
      const out = ctl.upsertUser(body());
      ctl.scheduleSave();
      return sendJson(res, out.created ? 201 : 200, out);
    }
    case 'POST /__sim/departments': {
      const out = ctl.upsertDepartment(body());
      ctl.scheduleSave();
      return sendJson(res, out.created ? 201 : 200, out);
    }
    case 'GET /__sim/faults':
      return sendJson(res, 200, structuredClone(ctl.runtimeFor(q('tenant')).faults));
    case 'POST /__sim/faults':
      return sendJson(res, 200, ctl.setFaults((ctl.faultsSchema ?? errcodeFaultsSchema).parse(body())));
    case 'GET /__sim/messages':
      return sendJson(res, 200, { messages: structuredClone(ctl.runtimeFor(q('tenant')).org.messages) });
    case 'POST /__sim/reset': {
      ctl.reset(resetSchema.parse(body()).tenant);
      return sendJson(res, 200, { ok: true });
    }
    case 'POST /__sim/auth-code':
      return sendJson(res, 201, { code: ctl.mintAuthCode(body()), expiresIn: ctl.authCodeTtlSeconds });
    default:
      return sendJson(res, 404, { error: `no control route ${req.method} ${url.pathname}` });
  }
}

/** Answer a control-API refusal (ControlError, or input zod refused); false for any other error. */
function answerRefusal(res: ServerResponse, err: unknown): boolean {
  if (err instanceof ControlError) {
    sendJson(res, err.status, { error: err.message });
    return true;
  }
  if (err instanceof z.ZodError) {
    sendJson(res, 400, { error: 'invalid request', issues: describeIssues(err) });
    return true;
  }
  return false;
}

/** A running org simulator: the control API's reads and resets, for tests in the same process. */
export interface RunningOrgSimulator<Rt extends OrgRuntime, View> extends RunningSimulator {
  state(tenant?: string): View;
  messages(tenant?: string): Rt['org']['messages'];
  reset(tenant?: string): void;
  flush(): void;
}

/** The vendor's answers in its own envelope when no route matches (404) and when the simulator itself fails (500). */
export interface OrgSimEnvelopes {
  notFound: Record<string, unknown>;
  internalError: Record<string, unknown>;
}

/**
 * Serve an org simulator on `listenOn`'s host and port (0 = a free port): /__sim/ calls go to
 * the control API; any other path is resolved by `router` and handed to `handle` with its
 * route, or answered 404. Control refusals are answered 4xx; any other error is logged and
 * answered 500. Stopping flushes the state file first.
 */
export async function serveOrgSimulator<Rt extends OrgRuntime, View, Role extends string>(
  ctl: OrgControl<Rt, View>,
  router: PrefixRouter<Role>,
  opts: {
    listenOn: { host?: string; port?: number };
    logger: Logger | undefined;
    flush(): void;
    envelopes: OrgSimEnvelopes;
    handle(route: { role: Role; rest: string }, req: IncomingMessage, res: ServerResponse, url: URL, bodyText: string): Promise<void> | void;
  },
): Promise<RunningOrgSimulator<Rt, View>> {
  const server = createSimServer(async (req, res, url, bodyText) => {
    try {
      if (url.pathname.startsWith('/__sim/')) return handleOrgControl(ctl, req, res, url, bodyText);
      const route = router.resolve(url.pathname);
      if (!route) return sendJson(res, 404, opts.envelopes.notFound);
      return await opts.handle(route, req, res, url, bodyText);
    } catch (err) {
      if (answerRefusal(res, err)) return;
      opts.logger?.error(`${ctl.vendor} simulator failed`, { path: url.pathname, err });
      return sendJson(res, 500, opts.envelopes.internalError);
    }
  });
  const http = await listen(server, opts.listenOn.host, opts.listenOn.port);
  opts.logger?.info(`${ctl.vendor} simulator listening`, { url: http.url, tenants: ctl.tenantIds() });
  return {
    vendor: ctl.vendor,
    url: http.url,
    port: http.port,
    async stop() {
      opts.flush();
      await http.close();
    },
    state: (tenant) => ctl.view(ctl.runtimeFor(tenant)),
    messages: (tenant) => structuredClone(ctl.runtimeFor(tenant).org.messages) as Rt['org']['messages'],
    reset: (tenant) => ctl.reset(tenant),
    flush: () => opts.flush(),
  };
}

/** A tenant runtime as far as its state view goes. */
export interface OrgRuntimeCounts<D, U> extends OrgRuntime {
  tenant: { id: string };
  org: { departments: D[]; users: U[]; messages: readonly unknown[] };
  calls: Record<string, number>;
  errors: Record<string, number>;
}

/** What every org simulator's GET /__sim/state shows of a tenant (copies, safe to keep); the vendor adds its ids and token counts. */
export function orgStateView<D, U>(rt: OrgRuntimeCounts<D, U>): { tenant: string; departments: D[]; users: U[]; calls: Record<string, number>; errors: Record<string, number>; messages: number } {
  return {
    tenant: rt.tenant.id,
    departments: structuredClone(rt.org.departments),
    users: structuredClone(rt.org.users),
    calls: { ...rt.calls },
    errors: { ...rt.errors },
    messages: rt.org.messages.length,
  };
}
