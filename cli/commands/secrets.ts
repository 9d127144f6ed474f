/**
 * `qiye-bridge secrets set`: store one tenant secret on any stage, so nobody edits
 * `.data/secrets.json` (or the Secrets Manager console) by hand.
 *
 * The value is read from standard input (never an argument: arguments end up in shell
 * history and process lists), checked against the kind's schema (shared/config/secrets.ts)
 * before anything is written, and never printed or logged: the output names the secret and
 * its field names only. Stage "local" writes the local file store (the data folder is made
 * 0700); any other stage calls Secrets Manager's PutSecretValue in the current AWS account.
 */
import { SECRET_KINDS, secretSchemas, tenantSecretRefs, type SecretKind, type TenantSecretRef } from '../../shared/config/secrets';
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import { ValidationError } from '../../shared/errors/app-error';
import { inspectKey } from '../../shared/use-cases/manage-keys';
import { secretStoreFor } from '../context';
import type { Command } from './command';

export const secretsSet: Command = {
  name: 'secrets set',
  summary: 'Store a tenant secret (JSON value read from standard input, never shown); any stage.',
  usage: [
    `npx qiye-bridge secrets set --tenant <id> --kind <${SECRET_KINDS.join('|')}> [--channel <id>] [--stage <stage>] < value.json`,
    '  The value is a JSON object (fields per kind in the README, "Fill the secrets"), e.g. {"linkSecret":"..."} for oa.',
    '  --channel: an extra DingTalk org / WeCom corp of the tenant (`channels[].id`); --kind is its vendor.',
    '  It is checked before anything is stored and replaces the whole secret. On a terminal, paste it when asked;',
    '  nothing is echoed. For the netease RSA key prefer `keys import`, which also accepts PEM.',
  ].join('\n'),
  options: { tenant: { type: 'string' }, kind: { type: 'string' }, channel: { type: 'string' } },
  async run({ values }, ctx) {
    const tenant = ctx.tenant(values.tenant as string | undefined);
    const kind = values.kind as string | undefined;
    if (!kind || !(SECRET_KINDS as readonly string[]).includes(kind)) throw new ValidationError(`--kind must be one of ${SECRET_KINDS.join(', ')}.`);
    const { name } = pickSecret(tenantSecretRefs(ctx.stage, tenant), tenant, kind as SecretKind, values.channel as string | undefined);
    const value = parseSecretValue(kind as SecretKind, await ctx.readSecret(), tenant.id);
    if (ctx.isLocal) {
      const { ensurePrivateDir } = await import('../../local/data-dir');
      await ensurePrivateDir(ctx.dataDir);
    }
    await (await secretStoreFor(ctx)).putJson(name, value);
    ctx.out(`Stored ${name} (fields: ${Object.keys(value).sort().join(', ')}; the value is not shown).`);
    if (!ctx.isLocal) ctx.out('Functions pick it up within a minute (their secret cache lives 60 s).');
  },
};

/**
 * The secret `--kind` (and `--channel`) name among the tenant's secrets, or a ValidationError
 * saying what the tenant does use. `--channel dingtalk` / `wecom` is the top-level section.
 */
function pickSecret(refs: TenantSecretRef[], tenant: TenantConfig, kind: SecretKind, channel: string | undefined): TenantSecretRef {
  const ref = refs.find((r) => r.kind === kind && (channel === undefined || channel === kind ? r.channelId === undefined : r.channelId === channel));
  if (ref) return ref;
  const uses = refs.map((r) => (r.channelId === undefined ? r.kind : `${r.kind} --channel ${r.channelId}`)).join(', ');
  if (channel !== undefined && channel !== kind) {
    throw new ValidationError(`Tenant "${tenant.id}" has no ${kind} channel "${channel}" in its "channels", so it has no such secret (it uses: ${uses}).`);
  }
  throw new ValidationError(`Tenant "${tenant.id}" has no "${kind}" section, so it has no ${kind} secret (it uses: ${uses}).`);
}

/** The checked value; problems name fields and rules, never the value. */
export function parseSecretValue(kind: SecretKind, text: string, tenantId: string): Record<string, unknown> {
  if (text.trim() === '') throw new ValidationError('No value on standard input: pipe the JSON value in, e.g. `... secrets set ... < value.json`.', { code: 'SECRET.EMPTY' });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No details: a JSON SyntaxError quotes the text around the error, i.e. the secret.
    throw new ValidationError('The value is not valid JSON (expected an object such as {"field":"..."}). Nothing was stored.', { code: 'SECRET.INVALID_JSON' });
  }
  const r = secretSchemas[kind].safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ');
    throw new ValidationError(`The ${kind} secret value is invalid: ${problems}. Nothing was stored.`, { code: 'SECRET.INVALID_VALUE' });
  }
  const value = r.data as Record<string, unknown>;
  if (kind === 'netease') inspectKey(tenantId, value.privateKeyHex as string); // a KeyFormatError says why; it never quotes the key
  if (kind === 'ekp' && value.password === undefined && value.apiKey === undefined) {
    throw new ValidationError('The ekp secret value needs "password" (Basic auth) or "apiKey" (key header). Nothing was stored.', { code: 'SECRET.INVALID_VALUE' });
  }
  return value;
}
