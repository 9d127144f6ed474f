import { deploymentSecretName, deploymentSecretSchema } from '../../shared/config/secrets';
import { NotConfiguredError, ValidationError } from '../../shared/errors/app-error';
import type { SecretStore } from '../../shared/ports/secret-store';
import { buildBreakGlassLink, BREAKGLASS_DEFAULT_TTL_MS } from '../../shared/use-cases/console/break-glass';
import { deriveConsoleKeys } from '../../shared/use-cases/console/session';
import { secretStoreFor } from '../context';
import type { Command } from './command';

/** A one-time break-glass sign-in link for the console (also printed by `npm start`). */
export async function breakGlassLink(secrets: SecretStore, stage: string, baseUrl: string, label: string, ttlMs = BREAKGLASS_DEFAULT_TTL_MS, now = Date.now()): Promise<string> {
  const name = deploymentSecretName(stage);
  const parsed = deploymentSecretSchema.safeParse((await secrets.getJson(name)) ?? {});
  if (!parsed.success) throw new NotConfiguredError(`Secret "${name}" is missing or has no valid "key" (the stateful stack creates it; locally, npm start does).`);
  return buildBreakGlassLink({ baseUrl, keys: deriveConsoleKeys(parsed.data.key), label, now, ttlMs });
}

export const consoleLink: Command = {
  name: 'console link',
  summary: 'Print a one-time break-glass sign-in link to the console (deployment admin, every tenant).',
  usage: 'npx qiye-bridge console link [--label <who>] [--minutes <1-1440, default 15>] [--base-url <HTTP API URL>] [--stage <stage>]',
  options: { label: { type: 'string' }, minutes: { type: 'string' }, 'base-url': { type: 'string' } },
  async run({ values }, ctx) {
    const label = (values.label as string | undefined) ?? process.env.USER ?? 'operator';
    const minutes = values.minutes === undefined ? 15 : Number(values.minutes);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new ValidationError('--minutes must be a whole number from 1 to 1440.');
    const baseUrl = (values['base-url'] as string | undefined) ?? (ctx.isLocal ? `http://127.0.0.1:${process.env.QIYE_PORT ?? 3000}` : undefined);
    if (!baseUrl) throw new ValidationError('--base-url is required outside the local stack (the HttpApiUrl output of the deployed stack).');
    ctx.out(await breakGlassLink(await secretStoreFor(ctx), ctx.stage, baseUrl, label, minutes * 60_000));
  },
};
