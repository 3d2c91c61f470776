/**
 * Every record the store holds, in the merged order (lamport, author key) that the view applies
 * them in. For `ivy log` without a path (the handler keeps the newest `limit`; this reads every log).
 */
import {
  compareBytes,
  fromHex,
  lamportOf,
  toHex,
  vvApplyDelta,
  type LogStore,
  type SignedRecord,
  type VersionVector
} from '@ivyfs/log'

interface Entry {
  record: SignedRecord
  lamport: number
}

export async function mergedLog(store: LogStore): Promise<Entry[]> {
  const logs = new Map<string, SignedRecord[]>()
  for (const author of store.authors()) {
    const records: SignedRecord[] = []
    for await (const record of store.range(author, 0)) records.push(record)
    logs.set(toHex(author), records)
  }
  // The store is causally closed, so resolving dependencies depth-first always terminates.
  const lamports = new Map<string, number[]>()
  const fullVvs = new Map<string, VersionVector[]>()
  const lamportAt = (author: string, seq: number): number => {
    const known = lamports.get(author) ?? []
    lamports.set(author, known)
    for (let at = known.length; at <= seq; at++) {
      const record = logs.get(author)?.[at]
      if (record === undefined) return 0
      const previous = at === 0 ? new Map<string, number>() : (fullVvs.get(author)?.[at - 1] ?? new Map())
      const full = vvApplyDelta(previous, record.body.vv)
      const vvs = fullVvs.get(author) ?? []
      vvs[at] = full
      fullVvs.set(author, vvs)
      const predecessors: number[] = at === 0 ? [] : [known[at - 1] ?? 0]
      for (const [other, otherSeq] of full)
        if (other !== author) predecessors.push(lamportAt(other, otherSeq))
      known[at] = lamportOf(predecessors)
    }
    return known[seq] ?? 0
  }
  const entries: Entry[] = []
  for (const [author, records] of logs) {
    for (const record of records) entries.push({ record, lamport: lamportAt(author, record.body.seq) })
  }
  entries.sort(
    (a, b) =>
      a.lamport - b.lamport ||
      compareBytes(a.record.body.author, b.record.body.author) ||
      a.record.body.seq - b.record.body.seq
  )
  return entries
}

/**
 * The causal past of one record as a full version vector (author hex → highest seq), its own seq
 * included: the running maximum of the vv deltas along its author's log. O(seq) reads.
 */
export async function causalPast(store: LogStore, author: string, seq: number): Promise<VersionVector> {
  let full: VersionVector = new Map()
  for await (const record of store.range(fromHex(author), 0, seq + 1))
    full = vvApplyDelta(full, record.body.vv)
  full.set(author, Math.max(full.get(author) ?? -1, seq))
  return full
}

/** What two records both had seen (their common ancestor state): the pointwise minimum of their pasts. */
export function commonPast(a: VersionVector, b: VersionVector): VersionVector {
  const common: VersionVector = new Map()
  for (const [author, seq] of a) {
    const other = b.get(author)
    if (other !== undefined) common.set(author, Math.min(seq, other))
  }
  return common
}
