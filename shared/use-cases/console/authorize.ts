/**
 * Who may do what in the console, decided on the server for every request from the tenant
 * config (so a change to `console.admins` takes effect at once):
 * - deployment admin: every tenant, every action (the break-glass link, or
 *   `console.deploymentAdmins` in the tenants file);
 * - tenant admin (`tenants[].console.admins`): read and act on that tenant;
 * - auditor (`tenants[].console.auditors`): read that tenant only.
 * The pages hide buttons a role cannot use, but that is a courtesy: the routes call
 * `requireRole` before every read and every action.
 */
import type { TenantConfig, TenantsFile } from '../../config/tenant-config.schema';
import { AppError } from '../../errors/app-error';
import type { OperatorSubject } from '../../ports/console-store';

export type ConsoleRole = 'deployment-admin' | 'admin' | 'auditor';

export class ConsoleForbiddenError extends AppError {
  constructor(message: string) {
    super('CONSOLE.FORBIDDEN', message, { status: 403, expose: true });
  }
}

/** `dingtalk:manager4021@acme`, `breakglass:ops-oncall`: how the audit log names an operator. */
export function actorName(subject: OperatorSubject): string {
  return subject.kind === 'breakglass' ? `breakglass:${subject.label}` : `${subject.via}:${subject.userId}@${subject.tenantId}`;
}

export function isDeploymentAdmin(config: TenantsFile, subject: OperatorSubject): boolean {
  if (subject.kind === 'breakglass') return true;
  return (config.console?.deploymentAdmins ?? []).includes(`${subject.tenantId}/${subject.via}:${subject.userId}`);
}

/** The subject's role on `tenant`, or undefined when it has none. */
export function roleFor(config: TenantsFile, subject: OperatorSubject, tenant: TenantConfig): ConsoleRole | undefined {
  if (isDeploymentAdmin(config, subject)) return 'deployment-admin';
  if (subject.kind !== 'tenant' || subject.tenantId !== tenant.id) return undefined;
  const identity = `${subject.via}:${subject.userId}`;
  if (tenant.console.admins.includes(identity)) return 'admin';
  if (tenant.console.auditors.includes(identity)) return 'auditor';
  return undefined;
}

/** The tenants the subject may see, with its role on each. */
export function visibleTenants(config: TenantsFile, subject: OperatorSubject): Array<{ tenant: TenantConfig; role: ConsoleRole }> {
  return config.tenants.flatMap((tenant) => {
    const role = roleFor(config, subject, tenant);
    return role ? [{ tenant, role }] : [];
  });
}

export const canAct = (role: ConsoleRole | undefined): boolean => role === 'admin' || role === 'deployment-admin';

/**
 * The subject's role on the tenant, when it allows `need`.
 * @throws ConsoleForbiddenError (403) otherwise; the same message whether the tenant exists or not.
 */
export function requireRole(config: TenantsFile, subject: OperatorSubject, tenantId: string, need: 'read' | 'act'): { tenant: TenantConfig; role: ConsoleRole } {
  const tenant = config.tenants.find((t) => t.id === tenantId);
  const role = tenant ? roleFor(config, subject, tenant) : undefined;
  if (!tenant || !role) throw new ConsoleForbiddenError('You have no role on this tenant.');
  if (need === 'act' && !canAct(role)) throw new ConsoleForbiddenError('Your role (auditor) is read-only: this action needs a tenant admin.');
  return { tenant, role };
}

/** Deployment-wide actions (DLQ redrive): deployment admins only. */
export function requireDeploymentAdmin(config: TenantsFile, subject: OperatorSubject): void {
  if (!isDeploymentAdmin(config, subject)) throw new ConsoleForbiddenError('Only a deployment admin may do this.');
}
