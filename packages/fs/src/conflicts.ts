/**
 * The conflict index: creation (deterministic ids, deduplicated), queries and a canonical hash.
 * A conflict is added to the state through the record's undo log, so it is rolled back and
 * re-detected exactly like every other effect of a tentative record.
 */
import { hashParts } from './bytes.js'
import type { Conflict, ConflictKind, ConflictSide, RecInfo, Version } from './model.js'
import type { ApplyContext, State } from './state.js'

export interface ConflictInit {
  kind: ConflictKind
  /** What was touched, e.g. `entry:<dir>/<name>`: part of the id. */
  item: string
  paths: string[]
  winner: ConflictSide
  loser: ConflictSide
  base?: Version | undefined
}

export function conflictId(kind: ConflictKind, item: string, a: RecInfo, b: RecInfo): string {
  const [first, second] = a.id < b.id ? [a.id, b.id] : [b.id, a.id]
  return hashParts(['ivyfs-conflict-v1', kind, item, first, second])
}

/** Adds a conflict unless one with the same id exists (the same pair on the same item). */
export function addConflict(ctx: ApplyContext, init: ConflictInit): void {
  if (init.winner.record === init.loser.record) return
  const id = conflictId(init.kind, init.item, init.winner.record, init.loser.record)
  if (ctx.state.conflicts.has(id)) return
  const conflict: Conflict = {
    id,
    kind: init.kind,
    item: init.item,
    paths: init.paths,
    winner: init.winner,
    loser: init.loser,
    base: init.base,
    resolvedBy: undefined,
    resolution: undefined
  }
  ctx.undo.mapSet(ctx.state.conflicts, id, conflict)
}

export function sortedConflicts(state: State): Conflict[] {
  return [...state.conflicts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** A canonical hash of the whole conflict index (ids, kinds, paths, sides, resolutions). */
export function conflictIndexHash(state: State): string {
  const parts: (string | number)[] = ['ivyfs-conflicts-v1']
  for (const conflict of sortedConflicts(state)) {
    parts.push(conflict.id, conflict.kind, conflict.item, conflict.paths.join('\0'))
    parts.push(conflict.winner.record.id, conflict.loser.record.id)
    parts.push(conflict.resolvedBy?.id ?? '-', conflict.resolution ?? '-')
  }
  return hashParts(parts)
}
