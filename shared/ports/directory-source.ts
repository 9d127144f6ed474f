/**
 * DirectorySource: reading an organisation (departments and people) from the tenant's
 * office system. Owned by the core (the sync planner and the callback re-read); implemented
 * by the ekp adapter's ekp.directory-source.ts, dingtalk.directory-source.ts and
 * wecom.directory-source.ts, each mapping its vendor payloads to the source-neutral
 * model of shared/domain/directory.ts at its edge. The wiring picks one per tenant from its
 * `sync.source` (shared/wiring/tenant-clients.ts).
 */
import type { Department, DirectoryChanges, DirectoryObjectType, DirectorySnapshot, Person } from '../domain/directory';

/**
 * The port every directory source implements.
 * A source that cannot list changes omits `changesSince`; the planner then diffs full snapshots.
 */
export interface DirectorySource {
  readonly kind: 'ekp' | 'dingtalk' | 'wecom';
  /** Reads the whole directory. Throws (never returns complete: false silently) on upstream failure. */
  fullSnapshot(): Promise<DirectorySnapshot>;
  /** Changes since the given per-type watermarks (undefined = from the beginning). */
  changesSince?(watermarks: Partial<Record<DirectoryObjectType, string>>): Promise<DirectoryChanges>;
  /** Current state of one person, or undefined if the source no longer has them (callbacks re-read). */
  getPerson?(id: string): Promise<Person | undefined>;
  /** Current state of one department, or undefined if gone. */
  getDepartment?(id: string): Promise<Department | undefined>;
}
