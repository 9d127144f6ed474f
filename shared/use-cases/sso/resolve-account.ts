/**
 * Who is this person in NetEase? The mapping written by the sync decides; a fallback
 * rule applies only where the tenant allows it (sso.fallbackRule).
 */
import type { TenantConfig } from '../../config/tenant-config.schema';
import { AppError } from '../../errors/app-error';
import type { MappingStore } from '../../ports/mapping-store';
import type { SourceKind } from '../../ports/store-common';

/** A person we refuse to sign in: shown as a page, never redirected. */
export class SignInRefusedError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { status: 403, expose: true });
  }
}

const ACCOUNT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export async function resolveAccount(opts: { tenant: TenantConfig; mappings: MappingStore; source: SourceKind; userId: string }): Promise<string> {
  const { tenant, userId } = opts;
  const mapping = await opts.mappings.get({ tenantId: tenant.id, source: opts.source, objectType: 'person', sourceId: userId });
  if (mapping) {
    if (mapping.status === 'suspended') {
      throw new SignInRefusedError('SSO.ACCOUNT_SUSPENDED', '您的邮箱已停用。Your mailbox is suspended; please contact your administrator.');
    }
    if (mapping.status === 'deleted') {
      throw new SignInRefusedError('SSO.ACCOUNT_DELETED', '您的邮箱已注销。This mailbox no longer exists; please contact your administrator.');
    }
    return mapping.neteaseId;
  }
  const rule = tenant.sso.fallbackRule;
  if (rule === 'emailLocalPart') {
    const [local, domain] = userId.toLowerCase().split('@');
    if (local && domain === tenant.netease.domain && ACCOUNT_NAME.test(local)) return local;
  } else if (rule === 'loginName' && ACCOUNT_NAME.test(userId)) {
    return userId.toLowerCase();
  }
  throw new SignInRefusedError('SSO.UNKNOWN_USER', '没有找到与您的账号关联的邮箱。No mailbox is linked to your account yet; please contact your administrator.');
}
