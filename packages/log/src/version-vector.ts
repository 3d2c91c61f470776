/**
 * Version vectors and Lamport clocks: small pure functions. A vector maps an author (lower-case
 * hex of the public key) to the highest seq held or applied from that author; an absent author
 * means none (seq numbering starts at 0, so "absent" and "0" differ).
 */
import assert from 'node:assert/strict'
import type { VersionEntry } from './types.js'
import { compareBytes, fromHex, toHex } from './bytes.js'

export type VersionVector = Map<string, number>
export type VersionOrder = 'before' | 'after' | 'equal' | 'concurrent'

/** How a relates to b: 'before' when b covers a and more, 'concurrent' when each has something new. */
export function vvCompare(a: VersionVector, b: VersionVector): VersionOrder {
  let less = false
  let greater = false
  for (const author of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(author) ?? -1
    const y = b.get(author) ?? -1
    if (x < y) less = true
    if (x > y) greater = true
  }
  if (less) return greater ? 'concurrent' : 'before'
  return greater ? 'after' : 'equal'
}

/** Whether vv includes record `seq` of `author` (vv[author] >= seq). */
export function vvCovers(vv: VersionVector, author: Uint8Array | string, seq: number): boolean {
  assert(Number.isSafeInteger(seq) && seq >= 0, 'seq is a non-negative integer')
  const held = vv.get(typeof author === 'string' ? author : toHex(author))
  return held !== undefined && held >= seq
}

/** Pointwise maximum, as a new map. */
export function vvMerge(a: VersionVector, b: VersionVector): VersionVector {
  const out = new Map(a)
  for (const [author, seq] of b) {
    const held = out.get(author)
    if (held === undefined || seq > held) out.set(author, seq)
  }
  return out
}

/** The full vector after a record whose on-disk delta is `delta`: the running maximum. */
export function vvApplyDelta(full: VersionVector, delta: readonly VersionEntry[]): VersionVector {
  const out = new Map(full)
  for (const entry of delta) {
    const author = toHex(entry.author)
    const held = out.get(author)
    if (held === undefined || entry.seq > held) out.set(author, entry.seq)
  }
  return out
}

/**
 * The delta a record carries: every author whose entry grew from previousFull to nextFull,
 * except `exclude` (the record's own author), sorted by author bytes.
 */
export function vvDelta(
  previousFull: VersionVector,
  nextFull: VersionVector,
  exclude: string
): VersionEntry[] {
  const entries: VersionEntry[] = []
  for (const [author, seq] of nextFull) {
    if (author === exclude) continue
    const held = previousFull.get(author)
    if (held === undefined || seq > held) entries.push({ author: fromHex(author), seq })
  }
  return entries.sort((x, y) => compareBytes(x.author, y.author))
}

/** A record's Lamport time: 1 + the largest of its predecessors' (1 when it has none). */
export function lamportOf(predecessorLamports: Iterable<number>): number {
  let max = 0
  for (const lamport of predecessorLamports) {
    assert(Number.isSafeInteger(lamport) && lamport >= 1, 'Lamport times are positive integers')
    if (lamport > max) max = lamport
  }
  return max + 1
}
