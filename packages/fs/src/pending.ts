/**
 * Records that wait for a predecessor, indexed by what they wait for. A record can be placed in
 * the order only after its author's previous record and every record its version vector names.
 * Only the first unplaced record of each author (its "head") can be next, and a head that
 * cannot be placed registers on the one record it lacks; placing that record wakes exactly the
 * heads that waited for it. Opening a filesystem without a snapshot (every record of author 0,
 * then of author 1, …) is then linear in the number of records, not quadratic.
 */
import type { ViewRecord } from './model.js'

const waitKey = (author: string, seq: number): string => `${author}:${seq}`

export class PendingRecords {
  /** Waiting records by author, then seq (the first copy of a (author, seq) is kept). */
  private readonly byAuthor = new Map<string, Map<number, ViewRecord>>()
  /** Authors whose head waits for record `author:seq`. */
  private readonly waiters = new Map<string, string[]>()
  private count = 0

  get size(): number {
    return this.count
  }

  /** Holds a record; false when a record of this (author, seq) is already held. */
  add(author: string, seq: number, record: ViewRecord): boolean {
    let records = this.byAuthor.get(author)
    if (records === undefined) this.byAuthor.set(author, (records = new Map()))
    if (records.has(seq)) return false
    records.set(seq, record)
    this.count++
    return true
  }

  peek(author: string, seq: number): ViewRecord | undefined {
    return this.byAuthor.get(author)?.get(seq)
  }

  /** Removes the held record (it was placed). */
  delete(author: string, seq: number): void {
    const records = this.byAuthor.get(author)
    if (records === undefined || !records.delete(seq)) return
    this.count-- // an emptied author map stays (one per author): no churn on every record
  }

  /** `waiter`'s head waits for record (author, seq). */
  wait(author: string, seq: number, waiter: string): void {
    const key = waitKey(author, seq)
    const list = this.waiters.get(key)
    if (list === undefined) this.waiters.set(key, [waiter])
    else if (!list.includes(waiter)) list.push(waiter)
  }

  /** Record (author, seq) was placed: the authors whose head waited for it. */
  wake(author: string, seq: number): readonly string[] {
    if (this.waiters.size === 0) return []
    const key = waitKey(author, seq)
    const list = this.waiters.get(key)
    if (list === undefined) return []
    this.waiters.delete(key)
    return list
  }
}
