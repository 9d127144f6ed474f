import type { TenantConfig } from '../config/tenant-config.schema';

/** One alert, ready to send: a short title, a few lines, and the console page it is about. */
export interface Alert {
  tenantId: string;
  /** Stable per condition (`parked:<run>`), for deduplication and logs. */
  key: string;
  kind: 'run.parked' | 'run.failed' | 'run.stuck' | 'dlq.not_empty' | 'callbacks.silent';
  title: string;
  lines: string[];
  /** The console page that shows it. */
  url: string;
}

/** Where alerts go: the tenant's admins (DingTalk, WeCom, group robot) and the deployment's SNS topic. */
export interface AlertChannels {
  /**
   * Send to the tenant's configured channel (`console.alerts`). Resolves `false` when the
   * tenant has none configured (nothing sent). Throws on a failed send.
   */
  toTenant(tenant: TenantConfig, alert: Alert): Promise<boolean>;
  /** Publish to the alarm topic (deployment operators). Resolves `false` when no topic is wired (local). */
  toOperators(alert: Alert): Promise<boolean>;
}
