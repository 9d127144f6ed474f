import { secretName } from '../../shared/config/secrets';
import { NotConfiguredError, ValidationError } from '../../shared/errors/app-error';
import { readTenantSecret } from '../../shared/runtime/runtime';
import { buildOaLink } from '../../shared/use-cases/sso/oa-link';
import { secretStoreFor } from '../context';
import { tenantCommand } from './command';

export const ssoLink = tenantCommand({
  name: 'sso-link',
  summary: 'Print a signed OA sign-in link for a person (what the OA must produce), to test SSO.',
  args: '--user <source-user-id> [--mid <id> | --module <module>] [--lang 0|1] [--base-url <sso function URL>]',
  async run({ values, tenant }, ctx) {
    if (typeof values.user !== 'string' || !values.user) throw new ValidationError('--user <source-user-id> is required.');
    const baseUrl = (values['base-url'] as string | undefined) ?? (ctx.isLocal ? `http://127.0.0.1:${process.env.QIYE_SSO_PORT ?? 3001}` : undefined);
    if (!baseUrl) throw new ValidationError('--base-url is required outside the local stack (the SsoFunctionUrl output of the deployed stack).');
    let secret: string;
    try {
      secret = (await readTenantSecret(await secretStoreFor(ctx), ctx.stage, tenant.id, 'oa')).linkSecret;
    } catch (err) {
      if (err instanceof NotConfiguredError) {
        throw new NotConfiguredError(`${err.message}. Set {"linkSecret": "..."} in ${secretName(ctx.stage, tenant.id, 'oa')}${ctx.isLocal ? ' (npm start creates it on first start)' : ''}.`);
      }
      throw err;
    }
    ctx.out(buildOaLink({ baseUrl, tenantId: tenant.id, secret, user: values.user, mid: values.mid as string | undefined, module: values.module as string | undefined, lang: values.lang as string | undefined }));
  },
});
