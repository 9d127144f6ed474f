/**
 * `qiye-bridge simulate callback`: send a correctly signed and encrypted DingTalk or WeCom
 * contact callback to the local stack (or any deployment given --url), using the tenant's
 * callback secrets, and say whether it was acknowledged the way the vendor requires.
 */
import { channelView, findChannel } from '../../shared/config/channels';
import { secretName } from '../../shared/config/secrets';
import { NotConfiguredError, ValidationError } from '../../shared/errors/app-error';
import { readTenantSecret } from '../../shared/runtime/runtime';
import {
  DINGTALK_SIMULATED_EVENTS,
  WECOM_SIMULATED_EVENTS,
  buildSimulatedCallback,
  callbackVendorsOf,
  vendorOfEvent,
  type SimulatedEvent,
} from '../../shared/use-cases/callbacks/simulate-callback';
import { secretStoreFor } from '../context';
import type { Command } from './command';

const splitIds = (v: unknown): string[] | undefined =>
  typeof v === 'string' && v !== ''
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

export const simulateCallback: Command = {
  name: 'simulate callback',
  summary: 'Send a signed, encrypted DingTalk/WeCom contact callback to the local stack and check it is acknowledged.',
  usage: [
    'npx qiye-bridge simulate callback --tenant <id> [--channel <id>] --event <event> (--user <id>[,<id>...] | --dept <id>[,<id>...]) [--new-user <id>] [--url <gateway URL>] [--stage <stage>]',
    '',
    `  DingTalk events: ${Object.keys(DINGTALK_SIMULATED_EVENTS).join(', ')}`,
    `  WeCom events:    ${Object.keys(WECOM_SIMULATED_EVENTS).join(', ')}`,
    '  --user / --dept  the DingTalk userid / dept_id or WeCom UserID / department Id (DingTalk takes a comma-separated list)',
    '  --new-user       WeCom update_user only: the NewUserID when the userid changed',
    '  --channel        an extra DingTalk org / WeCom corp of the tenant (channels[].id): its own route and keys',
    '  --url            default http://127.0.0.1:$QIYE_PORT (3000), the local gateway; required for other stages',
  ].join('\n'),
  options: {
    tenant: { type: 'string' },
    channel: { type: 'string' },
    event: { type: 'string' },
    user: { type: 'string' },
    dept: { type: 'string' },
    'new-user': { type: 'string' },
    url: { type: 'string' },
  },
  async run({ values }, ctx) {
    const tenant = ctx.tenant(values.tenant as string | undefined);
    const event = values.event;
    if (typeof event !== 'string' || !event) throw new ValidationError('--event <event> is required (see --help for the list).');
    const vendor = vendorOfEvent(event);
    if (!vendor) {
      throw new ValidationError(`Unknown event "${event}". DingTalk: ${Object.keys(DINGTALK_SIMULATED_EVENTS).join(', ')}. WeCom: ${Object.keys(WECOM_SIMULATED_EVENTS).join(', ')}.`);
    }
    const channelId = values.channel as string | undefined;
    const channel = channelId === undefined ? undefined : findChannel(tenant, vendor, channelId);
    if (channelId !== undefined && (!channel || channel.id === vendor)) {
      throw new ValidationError(`Tenant "${tenant.id}" has no extra ${vendor} channel "${channelId}" in its "channels" (leave --channel out for its ${vendor} section).`);
    }
    if (!channel && !tenant[vendor]) {
      const has = callbackVendorsOf(tenant);
      throw new ValidationError(`Tenant "${tenant.id}" has no ${vendor} section, so it takes no ${vendor} callbacks${has.length ? ` (it has ${has.join(' and ')})` : ''}.`);
    }
    const users = splitIds(values.user);
    const depts = splitIds(values.dept);
    if (users && depts) throw new ValidationError('Give --user or --dept, not both.');
    const url = ((values.url as string | undefined) ?? (ctx.isLocal ? `http://127.0.0.1:${process.env.QIYE_PORT ?? 3000}` : undefined))?.replace(/\/+$/, '');
    if (!url) throw new ValidationError('--url is required outside the local stack (the HTTP API URL of the deployed stack).');

    const name = secretName(ctx.stage, tenant.id, vendor, channel?.id);
    let secret;
    try {
      secret = await readTenantSecret(await secretStoreFor(ctx), ctx.stage, tenant.id, vendor, channel?.id);
    } catch (err) {
      if (err instanceof NotConfiguredError) throw new NotConfiguredError(`${err.message}${ctx.isLocal ? ' (npm start creates it on first start)' : ''}.`);
      throw err;
    }
    if (!secret.callbackToken || !secret.callbackAesKey) {
      throw new NotConfiguredError(`Set callbackToken and callbackAesKey in ${name} (the values entered in the ${vendor === 'dingtalk' ? 'DingTalk' : 'WeCom'} console).`);
    }

    const cb = buildSimulatedCallback({
      ...(channel ? { tenant: channelView(tenant, channel), channelId: channel.id } : { tenant }),
      token: secret.callbackToken,
      aesKey: secret.callbackAesKey,
      event: event as SimulatedEvent,
      ...(users || depts ? { ids: users ?? depts } : {}),
      ...(typeof values['new-user'] === 'string' ? { newUserId: values['new-user'] } : {}),
      now: Date.now(),
    });
    const target = `${url}${cb.path}`;
    ctx.out(`${cb.method} ${target}  ${event}${users ? ` user ${users.join(',')}` : ''}${depts ? ` dept ${depts.join(',')}` : ''}`);
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(`${target}?${cb.rawQuery}`, {
        method: cb.method,
        headers: { 'content-type': cb.contentType },
        ...(cb.method === 'POST' ? { body: cb.body } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new ValidationError(`Could not reach ${url} (${(err as Error).message}). Is the local stack running (npm start)?`);
    }
    const body = await res.text();
    const ms = Date.now() - started;
    const verdict = cb.verdict(res.status, body);
    if (verdict.acknowledged) {
      ctx.out(`-> ${res.status} in ${ms} ms: acknowledged (${verdict.detail})`);
      return 0;
    }
    let code = '';
    try {
      const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
      if (typeof parsed.error === 'string') code = ` ${parsed.error}${typeof parsed.message === 'string' ? `: ${parsed.message}` : ''}`;
    } catch {
      // not JSON: the verdict says enough
    }
    ctx.err(`-> ${res.status} in ${ms} ms: NOT acknowledged (${verdict.detail})${code}`);
    return 1;
  },
};
