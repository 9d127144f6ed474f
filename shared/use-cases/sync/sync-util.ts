/** Small helpers shared by the sync use cases. */
import type { OperationKind, PlanOperation } from '../../domain/sync-plan';
import type { RunCountKey, RunCounts } from '../../ports/run-store';

/**
 * The result's operation name: the kind, with `.temporary` for the first half of a unit
 * name swap (so both renames of one department in one run keep their own result).
 */
export function operationName(op: PlanOperation): string {
  return op.kind === 'unit.update' && op.temporary ? 'unit.update.temporary' : op.kind;
}

/** The run counter an applied operation adds to. */
export const COUNT_OF_KIND: Record<OperationKind, RunCountKey> = {
  'unit.create': 'created',
  'unit.update': 'updated',
  'unit.move': 'moved',
  'unit.delete': 'deleted',
  'unit.link': 'linked',
  'account.create': 'created',
  'account.update': 'updated',
  'account.move': 'moved',
  'account.suspend': 'suspended',
  'account.recover': 'recovered',
  'account.delete': 'deleted',
  'account.link': 'linked',
  // Display order, policies, leaver forwarding: settings of existing objects.
  'unit.rank': 'updated',
  'account.rank': 'updated',
  'account.policy': 'updated',
  'account.forward': 'updated',
  'maillist.create': 'created',
  'maillist.update': 'updated',
  'maillist.delete': 'deleted',
  'alias.add': 'updated',
  'alias.remove': 'updated',
};

export function addCount(counts: Partial<RunCounts>, key: RunCountKey, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/** Operations that succeeded (applied or linked), from run counters. */
export function appliedTotal(counts: RunCounts): number {
  return counts.created + counts.updated + counts.moved + counts.suspended + counts.recovered + counts.deleted + counts.linked;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; formula-leading characters defused for spreadsheets. */
export function csvField(value: unknown): string {
  let s = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvField).join(',');
}

/**
 * Parse CSV text (RFC 4180 quoting) into rows of fields. Blank lines are dropped.
 * Hand-written, not csv-parse (its sync API with `bom` and `skip_empty_lines` would fit): one caller
 * (the CLI's `--file` CSV import) reads small files, and 40 lines beside `csvLine` cost less than a
 * dependency. Swap it in if the import needs more (other delimiters, streaming).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const s = text.replace(/^\uFEFF/, '');
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    if (row.length > 1 || row[0]!.trim() !== '') rows.push(row);
    row = [];
  };
  while (i < s.length) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
    i++;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}
