/** The watermark port: how far each source's change feed has been applied (rules: store-common.ts). */
import type { DirectoryObjectType } from '../domain/directory';
import type { SourceKind } from './store-common';

// ---------------------------------------------------------------------------------------
// 2. Watermarks
// ---------------------------------------------------------------------------------------

export interface Watermark {
  tenantId: string;
  source: SourceKind;
  objectType: DirectoryObjectType;
  /** Opaque to the store, but ordered: see `compareWatermarks`. */
  value: string;
  updatedAt: number;
  runId: string;
}

/**
 * Per-type watermarks (EKP: one alterTime per type, sync-and-ekp.md §A6). A watermark only
 * moves forward; `clear` is the one way back (`sync clear-watermark`, forcing a full run).
 */
export interface WatermarkStore {
  get(tenantId: string, source: SourceKind, objectType: DirectoryObjectType): Promise<Watermark | undefined>;
  /** Both types' watermarks for the planner (`DirectorySource.changesSince` input). */
  getAll(tenantId: string, source: SourceKind): Promise<Partial<Record<DirectoryObjectType, Watermark>>>;
  /**
   * Store `value` (at most MAX_WATERMARK_BYTES) if it is not behind the stored one (conditional write).
   * @returns true when stored (forward or equal); false when the store already holds a
   *   later value, which is kept.
   */
  advance(tenantId: string, source: SourceKind, objectType: DirectoryObjectType, value: string, runId: string): Promise<boolean>;
  /** Forget the watermark of one type, or of both when `objectType` is omitted. @returns how many existed. */
  clear(tenantId: string, source: SourceKind, objectType?: DirectoryObjectType): Promise<number>;
}

/**
 * The order watermarks advance in. Digit-only values (epoch times, sequence numbers)
 * compare as numbers, anything else as strings (fixed-width timestamps such as EKP's
 * `yyyy-MM-dd HH:mm:ss.SSS` sort correctly as strings); a digit-only value sorts before
 * any other. Implementations store `watermarkOrderKey(value)` and compare that.
 */
export function watermarkOrderKey(value: string): string {
  if (/^\d{1,40}$/.test(value)) return `n${value.padStart(40, '0')}`;
  return `s${value}`;
}

export function compareWatermarks(a: string, b: string): number {
  const ka = watermarkOrderKey(a);
  const kb = watermarkOrderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
