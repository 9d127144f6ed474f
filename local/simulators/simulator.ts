/**
 * What every vendor simulator (NetEase, DingTalk, WeCom, EKP) offers the local stack and
 * the tests: an HTTP server on loopback serving the tenants whose config points at it.
 */
import type { TenantConfig } from '../../shared/config/tenant-config.schema';
import type { Logger } from '../../shared/logging/logger';
import type { SecretStore } from '../../shared/ports/secret-store';

export type SimulatorVendor = 'netease' | 'dingtalk' | 'wecom' | 'ekp';

export interface SimulatorStartOptions {
  host: string;
  /** 0 = a free port (tests). */
  port: number;
  /** Tenants whose vendor URLs point at this simulator. */
  tenants: readonly TenantConfig[];
  /** Folder where the simulator may keep state between runs of the local stack. */
  dataDir?: string;
  /** The stack's secret store (e.g. the NetEase simulator learns each tenant's public key from it). */
  secrets?: SecretStore;
  /** Stage used in secret names. */
  stage?: string;
  logger?: Logger;
}

export interface RunningSimulator {
  vendor: SimulatorVendor;
  /** Base URL, e.g. http://127.0.0.1:3101 */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface SimulatorModule {
  vendor: SimulatorVendor;
  start(opts: SimulatorStartOptions): Promise<RunningSimulator>;
}
