/**
 * The stable frontier (DESIGN.md §3): a record covered by the newest version vector of every
 * member can never again have a record ordered before it, because every future record of a
 * member happens after that member's newest record (or, for a member with no records yet,
 * after its admission, which its records must have in their causal past).
 */
import type { Clocks, FullVv } from './order.js'
import type { State } from './state.js'

/** Pointwise minimum of every member's coverage; undefined when nothing can be stable. */
export function stableFrontier(state: State, clocks: Clocks): FullVv | undefined {
  const coverages: FullVv[] = []
  for (const member of state.members.values()) {
    const removed = member.removedFromSeq
    if (removed !== undefined && clocks.length(member.key) >= removed) continue
    coverages.push(clocks.coverage(member.key) ?? member.admittedAt)
  }
  const first = coverages[0]
  if (first === undefined) return undefined
  const frontier = new Map<string, number>()
  for (const [author, seq] of first) {
    let min = seq
    for (const coverage of coverages) min = Math.min(min, coverage.get(author) ?? -1)
    if (min >= 0) frontier.set(author, min)
  }
  return frontier
}
