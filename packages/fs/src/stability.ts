/**
 * The stable frontier (DESIGN.md §3): a record covered by the newest version vector of every
 * member can never again have a record ordered before it, because every future record of a
 * member happens after that member's newest record (or, for a member with no records yet,
 * after its admission, which its records must have in their causal past).
 */
import type { Entry, RecInfo } from './model.js'
import type { Clocks, FullVv } from './order.js'
import { SAFE_ATTR_BY, SAFE_BY, SAFE_REC, type State } from './state.js'

/** Pointwise minimum of every member's coverage; undefined when nothing can be stable. */
export function stableFrontier(state: State, clocks: Clocks): FullVv | undefined {
  // A member's coverage: that of its newest record (`clocks.covered`, read in place rather than
  // copied: this runs every few dozen records), or its admission while it has none.
  const readers: string[] = []
  const admissions: FullVv[] = []
  let first: string | FullVv | undefined
  for (const member of state.members.values()) {
    const held = clocks.length(member.key)
    const removed = member.removedFromSeq
    if (removed !== undefined && held >= removed) continue
    if (held > 0) readers.push(member.key)
    else admissions.push(member.admittedAt)
    first ??= held > 0 ? member.key : member.admittedAt
  }
  if (first === undefined) return undefined
  const frontier = new Map<string, number>()
  const consider = (author: string): void => {
    let min = Infinity
    for (const reader of readers) min = Math.min(min, clocks.covered(reader, author))
    for (const admission of admissions) min = Math.min(min, admission.get(author) ?? -1)
    if (min >= 0) frontier.set(author, min)
  }
  // The authors the first member's coverage names, in its order (the others can only lower them).
  if (typeof first === 'string') {
    const reader = first
    clocks.latestVvOf(reader).forEach((_, author) => consider(author))
    consider(reader)
  } else first.forEach((_, author) => consider(author))
  return frontier
}

/**
 * Lowers a frontier to what every tentative record has in its causal past too. A record at or
 * below the result happened before every record the view will still apply (tentative ones,
 * replayed after a rollback, and future ones), so nothing can conflict with it any more.
 */
export function safeFrontier(
  frontier: FullVv | undefined,
  tentative: readonly { readonly rec: RecInfo; readonly fullVv: FullVv }[]
): FullVv {
  const safe = new Map<string, number>()
  if (frontier === undefined) return safe
  for (const [author, seq] of frontier) {
    let min = seq
    for (const { rec, fullVv } of tentative) {
      const seen = rec.author === author ? rec.seq - 1 : (fullVv.get(author) ?? -1)
      if (seen < min) min = seen
    }
    if (min >= 0) safe.set(author, min)
  }
  return safe
}

export const isSafe = (safe: FullVv, rec: RecInfo): boolean => rec.seq <= (safe.get(rec.author) ?? -1)

/** A non-empty writer list every writer of which is safe. */
export const allSafe = (safe: FullVv, by: readonly RecInfo[]): boolean =>
  by.length > 0 && by.every((rec) => isSafe(safe, rec))

/** A writer list with SAFE_BY for an all-safe one (an empty list stays empty: see state.ts). */
export const compactedWriters = (safe: FullVv, by: readonly RecInfo[]): readonly RecInfo[] =>
  by !== SAFE_BY && allSafe(safe, by) ? SAFE_BY : by

/** A tombstone only safe records wrote: it acts exactly as a missing name (apply-names.ts). */
export const isSafeTombstone = (safe: FullVv, entry: Entry): boolean =>
  entry.ino === null && allSafe(safe, entry.by)

/**
 * Drops what only a conflict with a safe record could use. No record still to be applied is
 * concurrent with a safe one, so for a safe record the state needs no more than "it happened
 * before": the content before its change of a file (a data conflict's common ancestor) goes,
 * as writer of bytes, content, attributes or a removal it becomes SAFE_REC, so that its RecInfo
 * (and id) can be collected, and a removed name that only safe records wrote goes. Writers of
 * live names stay real: the exclusive-create protocol and directory merges name them. This
 * changes no result (the convergence tests compare views compacted and restarted at random
 * points with ones never compacted). It mutates outside the undo logs on purpose: a rollback
 * that restores an older value restores an equally valid one. Snapshots leave out the same
 * (snapshot-codec.ts uses these predicates).
 */
export function compactSafeState(state: State, safe: FullVv): void {
  for (const inode of state.inodes.values()) {
    inode.dataBy = compactedWriters(safe, inode.dataBy)
    if (inode.dataBy === SAFE_BY) inode.dataBefore = undefined
    for (const extent of inode.extents) {
      if (extent.by !== SAFE_REC && isSafe(safe, extent.by)) extent.by = SAFE_REC
    }
    if (inode.removedBy !== undefined && isSafe(safe, inode.removedBy)) inode.removedBy = SAFE_REC
    if (inode.entries !== undefined) {
      for (const [name, entry] of inode.entries) if (isSafeTombstone(safe, entry)) inode.entries.delete(name)
    }
    const a = inode.attrBy
    if (a === SAFE_ATTR_BY) continue
    const mode = compactedWriters(safe, a.mode)
    const uid = compactedWriters(safe, a.uid)
    const gid = compactedWriters(safe, a.gid)
    const size = compactedWriters(safe, a.size)
    if (mode === a.mode && uid === a.uid && gid === a.gid && size === a.size) continue
    const all = mode === SAFE_BY && uid === SAFE_BY && gid === SAFE_BY && size === SAFE_BY
    inode.attrBy = all ? SAFE_ATTR_BY : { mode, uid, gid, size }
  }
}
