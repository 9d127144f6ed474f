/** Errors the sync use cases raise on purpose (codes SYNC.*). */
import { AppError, NotFoundError, ValidationError } from '../../errors/app-error';
import type { TenantConfig } from '../../config/tenant-config.schema';
import type { SyncDeps } from './sync-deps';

/** A second run was asked for while one holds the tenant's lock. Not retryable: ask again later. */
export class SyncRunInProgressError extends AppError {
  /**
   * @param progress where the holding run stands (recover-runs.ts describeProgress and its
   *   fields: last progress, when the lock frees, stuck), when known.
   */
  constructor(
    readonly tenantId: string,
    readonly runId: string | undefined,
    progress?: { text: string; details: Record<string, unknown> },
  ) {
    super('SYNC.RUN_IN_PROGRESS', `a run is in progress: ${runId ?? 'unknown'}${progress ? ` (${progress.text})` : ''}`, {
      status: 409,
      expose: true,
      retryable: false,
      details: { tenantId, runId, ...(progress ? { progress: progress.details } : {}) },
    });
  }
}

/** A run cannot be approved/rejected in its current state, or has been overtaken. */
export class SyncRunStateError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('SYNC.RUN_STATE', message, { status: 409, expose: true, retryable: false, details });
  }
}

/** Another delivery of the same operation holds its lease: SQS redelivers later. */
export class OperationBusyError extends AppError {
  constructor(opId: string, leaseUntil: number) {
    super('SYNC.OPERATION_BUSY', `operation ${opId} is being applied by another delivery (lease until ${new Date(leaseUntil).toISOString()})`, { retryable: true, status: 503 });
  }
}

/** The tenant as configured for syncing, or a clear refusal. */
export function syncTenant(deps: SyncDeps, tenantId: string): TenantConfig & { sync: { source: NonNullable<TenantConfig['sync']['source']> } } {
  if (typeof tenantId !== 'string' || tenantId === '') throw new ValidationError('a tenant id is required', { code: 'SYNC.NO_TENANT' });
  const tenant = deps.tenants().find((t) => t.id === tenantId);
  if (!tenant) throw new NotFoundError(`Unknown tenant "${/^[a-z0-9-]{1,32}$/.test(tenantId) ? tenantId : '?'}".`, { code: 'TENANT.UNKNOWN' });
  if (!tenant.sync.source) {
    throw new ValidationError(`Tenant ${tenant.id} has no sync source: set sync.source to ekp, dingtalk or wecom in the tenants file.`, { code: 'SYNC.NO_SOURCE' });
  }
  return tenant as TenantConfig & { sync: { source: NonNullable<TenantConfig['sync']['source']> } };
}
