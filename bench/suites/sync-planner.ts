/**
 * Sync planner time and memory (issue 4, figures): for generated organisations of 10,000
 * people in 1,000 departments and 100,000 people in 10,000 departments,
 * (a) the initial plan from an empty mapping state,
 * (b) a re-plan with no change, which must contain zero operations (asserted),
 * (c) a re-plan after a typical day's churn (1% of people changed, some departments
 *     renamed or moved, a few leavers).
 * Target: under 10 s and 512 MB at 100,000 people.
 *
 * Plan time is wall clock; CPU is the process's user+system time over the same span (GC
 * threads included), which is steadier on a shared machine.
 *
 * Each size runs in its own child process (`--expose-gc`), so the peak RSS it reports is
 * that size's alone: the generated org, the plans and the mapping state included. The
 * organisation comes from test/fixtures/org-generator.ts (seeded, so runs are comparable);
 * its EKP wire records are dropped before planning, as a real planner never holds them.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateOrg } from '../../test/fixtures/org-generator';
import { applyMappingUpdates, mappingUpdatesFor } from '../../shared/domain/mapping-updates';
import { planSync } from '../../shared/domain/plan-sync';
import type { AccountMapping, SyncPlan, SyncSettings, UnitMapping } from '../../shared/domain/sync-plan';
import type { Department, Person } from '../../shared/domain/directory';
import { settings } from '../../test/unit/plan-harness';
import { markdownTable } from '../table';

const SIZES = [
  { people: 10_000, departments: 1_000 },
  { people: 100_000, departments: 10_000 },
] as const;
const TARGET_MS = 10_000;
const TARGET_MB = 512;

/** The tenant-config defaults (shared/config/tenant-config.schema.ts): a 5 % delete threshold. */
const SETTINGS: SyncSettings = settings({ deleteThreshold: { count: 50, percent: 5 } });

interface PhaseResult {
  phase: string;
  operations: number;
  apiCalls: number;
  planMs: number;
  cpuMs: number;
  heapMb: number;
}
interface ChildResult {
  people: number;
  departments: number;
  generateMs: number;
  baselineRssMb: number;
  phases: PhaseResult[];
  peakRssMb: number;
  noChangeOperations: number;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Applies a plan to the mapping state as the workers would, with made-up unit ids. */
function applyToMappings(plan: SyncPlan, state: { units: Map<string, UnitMapping>; accounts: Map<string, AccountMapping> }, now: number): void {
  let next = state.units.size + 1;
  const resolveNewUnit = (sourceId: string) => state.units.get(sourceId)?.unitId;
  for (const op of plan.operations) {
    const createdUnitId = op.kind === 'unit.create' ? `u${next++}` : undefined;
    applyMappingUpdates(state, mappingUpdatesFor(op, { now, resolveNewUnit, ...(createdUnitId ? { createdUnitId } : {}) }));
  }
}

/** A day's churn: 1% of active people change (name, mobile, main department), 0.2% leave, 1% of departments renamed, 0.2% moved. */
function churn(departments: Department[], people: Person[]): { departments: Department[]; people: Person[] } {
  let x = 12345;
  const rand = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
  const depts = departments.map((d) => ({ ...d }));
  const movable = depts.filter((d) => d.parentId !== undefined);
  for (let i = 0; i < Math.ceil(depts.length / 100); i++) {
    const d = movable[rand(movable.length)]!;
    d.name = `${d.name}${i}`;
  }
  // Moves: to the root's direct children only (never under its own subtree).
  const root = depts.find((d) => d.parentId === undefined)!;
  const topLevel = depts.filter((d) => d.parentId === root.id);
  for (let i = 0; i < Math.ceil(depts.length / 500); i++) {
    const d = movable[rand(movable.length)]!;
    if (topLevel.includes(d)) continue;
    d.parentId = topLevel[rand(topLevel.length)]!.id;
  }
  const ppl = people.map((p) => p);
  const active = ppl.map((p, i) => [p, i] as const).filter(([p]) => p.status === 'active');
  for (let i = 0; i < Math.ceil(active.length / 100); i++) {
    const [p, idx] = active[rand(active.length)]!;
    const changed: Person = { ...p };
    if (i % 3 === 0) changed.displayName = `${p.displayName}·`;
    else if (i % 3 === 1) changed.mobile = `139${String(10_000_000 + i).slice(-8)}`;
    else {
      changed.departmentIds = [depts[rand(depts.length)]!.id];
      delete changed.mainDepartmentId;
    }
    ppl[idx] = changed;
  }
  for (let i = 0; i < Math.ceil(active.length / 500); i++) {
    const [p, idx] = active[rand(active.length)]!;
    ppl[idx] = { ...p, status: 'left' };
  }
  return { departments: depts, people: ppl };
}

async function child(people: number, departments: number): Promise<ChildResult> {
  const t0 = performance.now();
  const org = generateOrg({ seed: 4, people, departments });
  const generateMs = performance.now() - t0;
  // Keep only the neutral model, as the planner's caller would.
  const source = { departments: org.departments, people: org.people };
  (org as { ekp?: unknown }).ekp = undefined;
  gc();
  const baselineRssMb = mb(process.memoryUsage().rss);
  const now = Date.UTC(2025, 0, 15);
  const phases: PhaseResult[] = [];
  const measure = (phase: string, plan: () => SyncPlan): SyncPlan => {
    gc();
    const start = performance.now();
    const cpu = process.cpuUsage();
    const result = plan();
    const planMs = performance.now() - start;
    const used = process.cpuUsage(cpu);
    phases.push({ phase, operations: result.operations.length, apiCalls: result.summary.apiCalls, planMs, cpuMs: (used.user + used.system) / 1000, heapMb: mb(process.memoryUsage().heapUsed) });
    return result;
  };
  const snapshot = (d: Department[], p: Person[]) => ({ kind: 'snapshot' as const, snapshot: { departments: d, people: p, complete: true, takenAt: now } });

  const initial = measure('initial plan (empty mapping)', () => planSync({ runId: 'bench-1', now, settings: SETTINGS, source: snapshot(source.departments, source.people), mappings: { units: [], accounts: [] } }));
  const state = { units: new Map<string, UnitMapping>(), accounts: new Map<string, AccountMapping>() };
  applyToMappings(initial, state, now);
  const mappings = { units: [...state.units.values()], accounts: [...state.accounts.values()] };
  const noChange = measure('re-plan, no change', () => planSync({ runId: 'bench-2', now: now + 3_600_000, settings: SETTINGS, source: snapshot(source.departments, source.people), mappings }));
  if (noChange.operations.length !== 0) throw new Error(`a no-change re-plan produced ${noChange.operations.length} operations`);
  const changed = churn(source.departments, source.people);
  measure('re-plan, 1% churn', () =>
    planSync({ runId: 'bench-3', now: now + 86_400_000, settings: SETTINGS, source: snapshot(changed.departments, changed.people), mappings, safetyOverride: true }),
  );
  return { people, departments, generateMs, baselineRssMb, phases, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), noChangeOperations: noChange.operations.length };
}

function runChild(people: number, departments: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', String(people), String(departments)], {
      execArgv: [...process.execArgv, '--expose-gc', '--max-old-space-size=2048'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: ChildResult | undefined;
    proc.on('message', (m) => (result = m as ChildResult));
    proc.on('error', reject);
    proc.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`planner bench child (${people} people) exited with ${code}`))));
  });
}

export async function run(): Promise<{ table: string; summary: string }> {
  const results: ChildResult[] = [];
  for (const size of SIZES) results.push(await runChild(size.people, size.departments));
  const rows: Array<Array<string | number>> = [];
  for (const r of results) {
    for (const p of r.phases) {
      rows.push([`${r.people.toLocaleString('en')} / ${r.departments.toLocaleString('en')}`, p.phase, p.operations, p.apiCalls, (p.planMs / 1000).toFixed(2), (p.cpuMs / 1000).toFixed(2), p.heapMb, r.peakRssMb]);
    }
  }
  const table = markdownTable(['People / departments', 'Run', 'Operations', 'NetEase calls', 'Plan time (s)', 'CPU (s)', 'Heap after (MB)', 'Peak RSS (MB)'], rows);
  const big = results[results.length - 1]!;
  const slowest = Math.max(...big.phases.map((p) => p.planMs));
  const ok = slowest < TARGET_MS && big.peakRssMb < TARGET_MB && big.noChangeOperations === 0;
  const summary =
    `${ok ? 'PASS' : 'FAIL'}: at ${big.people.toLocaleString('en')} people the slowest plan took ${(slowest / 1000).toFixed(2)} s (target < ${TARGET_MS / 1000} s), ` +
    `peak RSS ${big.peakRssMb} MB including the generated org (${big.baselineRssMb} MB before planning; target < ${TARGET_MB} MB); ` +
    `the no-change re-plan had ${big.noChangeOperations} operations.`;
  return { table, summary };
}

if (process.argv[2] === '--child') {
  const [people, departments] = [Number(process.argv[3]), Number(process.argv[4])];
  child(people, departments).then(
    (r) => process.send!(r, () => process.exit(0)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
