/**
 * The directory sync engine's use cases (issue 4): plan, fan out, apply to NetEase, decide
 * parked runs, on-demand runs through the plan queue, and the operator's reads. Callers:
 * functions/schedule/sync-planner, functions/queue/sync-worker, functions/http/admin/sync.routes.ts, cli/commands/sync.ts,
 * local/first-sync.ts, tests and bench/suites/sync.ts.
 */
export { startSyncRun, type StartSyncInput, type StartSyncResult, type ChangesContext } from './start-sync-run';
export {
  requestSyncRun,
  handleSyncRequest,
  syncRequestStatus,
  runPlanText,
  SYNC_REQUEST_NAMESPACE,
  SYNC_REQUEST_LEASE_SECONDS,
  type SyncRequestInput,
  type SyncRequestAccepted,
  type SyncRequestOutcome,
  type SyncRequestStatus,
} from './request-sync-run';
export { applyBatch, type ApplyBatchResult, type OperationRecord } from './apply-batch';
export { approveRun, rejectRun, type DecisionInput, type RejectResult } from './decide-run';
export { scheduleSyncRuns, chooseScheduledMode, type ScheduledTenantResult } from './schedule-sync';
export { runTenantSchedule, type TenantScheduleDeps } from './tenant-schedule';
export {
  listRuns,
  getRunDetail,
  runResultsCsv,
  listMappings,
  explainObject,
  clearWatermarks,
  importMappings,
  LinkImportError,
  RESULTS_CSV_HEADER,
  type RunDetail,
  type MappingView,
  type ObjectExplanation,
  type LinkRow,
  type ImportResult,
} from './sync-queries';
export {
  finalizeRun,
  fanOutPhase,
  sweepStaleRuns,
  runSummaryOf,
  requestFollowUp,
  sendFollowUp,
  releaseRun,
  SYNC_LOCK,
  PLAN_DOC,
  FOLLOW_UP_NAMESPACE,
  type FollowUpMessage,
  type RunSummary,
  type PhaseSpan,
} from './run-lifecycle';
export {
  recoverStuckRuns,
  abandonRun,
  findStuckRuns,
  syncedTenants,
  runProgress,
  describeProgress,
  lockHolder,
  type RecoveryOutcome,
  type AbandonInput,
  type AbandonResult,
  type RunProgress,
  type StuckRun,
} from './recover-runs';
export { DEFAULT_SYNC_OPTIONS, syncOptions, type SyncDeps, type SyncOptions } from './sync-deps';
export { SyncRunInProgressError, SyncRunStateError, OperationBusyError } from './sync-errors';
export { loadMappingState, toMappingState, writeMappingUpdates, recordToAccount, recordToUnit } from './mapping-codec';
export { readNeteaseState } from './netease-state';
export { parseCsv, csvLine } from './sync-util';
