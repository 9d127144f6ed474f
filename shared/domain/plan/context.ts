/**
 * The planner's shared vocabulary: the context every stage receives (input, settings, the
 * notes being collected) and the intermediate shapes one stage hands to the next.
 * Stages are pure apart from appending to `ctx.notes`; the orchestrator (../plan-sync.ts)
 * calls them in a fixed order, so notes keep a deterministic order.
 */
import type { AccountMapping, AccountProfile, MatchAttribute, NeteaseAccountRecord, ObjectNote, PlanOperation, PlanSyncInput, SuspendReason, SyncSettings } from '../sync-plan';

/** What every stage sees: the input, its settings and clock, and the notes of the run. */
export interface PlanContext {
  readonly input: PlanSyncInput;
  readonly settings: SyncSettings;
  readonly now: number;
  /** False when the caller withholds deletions (no suspend, delete or retire in this run). */
  readonly deletionsAllowed: boolean;
  readonly notes: ObjectNote[];
  /** Mapped people whose account NetEase does not hold at all (reconcile.ts): re-created, not recovered. */
  readonly purged: ReadonlySet<string>;
  note(type: ObjectNote['type'], sourceId: string, code: ObjectNote['code'], detail: string): void;
}

export function createPlanContext(input: PlanSyncInput, purged: ReadonlySet<string> = new Set()): PlanContext {
  const notes: ObjectNote[] = [];
  return {
    input,
    purged,
    settings: input.settings,
    now: input.now,
    deletionsAllowed: !input.withholdDeletions,
    notes,
    note: (type, sourceId, code, detail) => {
      notes.push({ type, sourceId, code, detail });
    },
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An operation before it has an id, a phase and its dependencies. */
export type OpDraft = DistributiveOmit<PlanOperation, 'id' | 'phase' | 'dependsOn'>;

/** The unit a desired department has before this run's operations. */
export interface CurrentUnit {
  unitId: string;
  name: string;
  parentUnitId?: string;
  origin: 'mapped' | 'linked' | 'takeover';
  /** For takeovers: the retiring department whose unit this becomes. */
  from?: string;
}

export type UnitRole = 'desired' | 'retiring' | 'retained';

export type Placement =
  | { state: 'in'; dept: string | null; /** None of the person's departments exists: the default unit. */ missing?: string[] }
  | { state: 'out'; why: 'departments' | 'noEmail' }
  /** `quarantined`: a department of the person is quarantined (department-quarantine.ts). */
  | { state: 'unknown'; quarantined?: string };

/** Who holds a unit name when the run starts. */
export interface NameHolderInfo {
  sourceId?: string;
  kind: 'managed' | 'unmanaged';
}

export interface PersonIntent {
  sourceId: string;
  accountName: string;
  /** 'keep' = active, in scope, has (or gets) an account; the rest are lifecycle actions. */
  action: 'create' | 'keep' | 'suspend' | 'delete' | 'none';
  dept?: string | null;
  profile?: AccountProfile;
  profileHash?: string;
  recover?: 'suspended' | 'deleted';
  recreate?: boolean;
  suspendReason?: SuspendReason;
  /** The mapping as it stands before this run's operations (after a link, NetEase's values). */
  mapping?: AccountMapping;
  linked?: { matchedBy: 'accountName' | MatchAttribute; record: NeteaseAccountRecord };
}

/** Counters of people the run leaves alone, reported in the summary. */
export interface PeopleCounters {
  unchangedPeople: number;
  skipped: number;
  inactiveWithoutAccount: number;
}

/** Appends `value` to the list under `key`. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
