/**
 * Ids of the pseudo departments a legacy unit move leaves behind (legacy-moves.ts): the old
 * unit stays mapped to `~moved~<unitId>~<department>` until it is empty and retired. Kept
 * apart from legacy-moves.ts so the naming and validation stages can test ids without
 * importing the stage that uses them.
 */
const MOVED_AWAY_PREFIX = '~moved~';

/** The pseudo department that holds `unitId` after `department` moved away from it. */
export function movedAwayId(department: string, unitId: string): string {
  return `${MOVED_AWAY_PREFIX}${unitId}~${department}`;
}

/** True for a pseudo department made by a legacy move. */
export function isMovedAwayId(sourceId: string): boolean {
  return sourceId.startsWith(MOVED_AWAY_PREFIX);
}

/** The department a pseudo id came from. */
export function movedAwayFrom(sourceId: string): string {
  const rest = sourceId.slice(MOVED_AWAY_PREFIX.length);
  return rest.slice(rest.indexOf('~') + 1);
}
