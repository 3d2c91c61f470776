/**
 * Records that arrived before something they depend on. Each waits for one (author, seq); when
 * the store announces that record, its waiters are handed back for another ingest (which may
 * name the next missing dependency). Bounded in records and bytes: when full, the oldest entry is
 * evicted and its sender is asked to resend from our real version vector (a resync), so nothing
 * is lost, only sent again.
 */
import { PENDING_BYTES_MAX, PENDING_RECORDS_MAX } from './constants.js'

export interface PendingEntry {
  /** `${author hex}:${seq}` of the waiting record. */
  key: string
  bytes: Uint8Array
  /** Peer (key hex) that sent it: asked to resync if the entry is evicted. */
  from: string
  /** `${author hex}:${seq}` of the record it waits for. */
  waitFor: string
}

export interface PendingPoolInit {
  recordsMax?: number
  bytesMax?: number
}

export class PendingPool {
  private readonly entries = new Map<string, PendingEntry>()
  private readonly waiting = new Map<string, Set<string>>()
  private bytes = 0
  private readonly recordsMax: number
  private readonly bytesMax: number

  constructor(init: PendingPoolInit = {}) {
    this.recordsMax = init.recordsMax ?? PENDING_RECORDS_MAX
    this.bytesMax = init.bytesMax ?? PENDING_BYTES_MAX
  }

  get size(): number {
    return this.entries.size
  }

  get byteLength(): number {
    return this.bytes
  }

  /** Adds an entry (replacing one for the same record); returns the entries evicted to fit it. */
  add(entry: PendingEntry): PendingEntry[] {
    this.remove(entry.key)
    if (entry.bytes.byteLength > this.bytesMax) return [entry]
    const evicted: PendingEntry[] = []
    while (
      this.entries.size > 0 &&
      (this.entries.size >= this.recordsMax || this.bytes + entry.bytes.byteLength > this.bytesMax)
    ) {
      const oldest = this.entries.values().next().value
      if (oldest === undefined) break
      this.remove(oldest.key)
      evicted.push(oldest)
    }
    this.entries.set(entry.key, entry)
    this.bytes += entry.bytes.byteLength
    let keys = this.waiting.get(entry.waitFor)
    if (keys === undefined) {
      keys = new Set()
      this.waiting.set(entry.waitFor, keys)
    }
    keys.add(entry.key)
    return evicted
  }

  /** Removes and returns the entries waiting for this record. */
  takeWaitingFor(author: string, seq: number): PendingEntry[] {
    const keys = this.waiting.get(`${author}:${seq}`)
    if (keys === undefined) return []
    const ready: PendingEntry[] = []
    for (const key of [...keys]) {
      const entry = this.entries.get(key)
      if (entry !== undefined) ready.push(entry)
      this.remove(key)
    }
    return ready
  }

  clear(): void {
    this.entries.clear()
    this.waiting.clear()
    this.bytes = 0
  }

  private remove(key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= entry.bytes.byteLength
    const keys = this.waiting.get(entry.waitFor)
    keys?.delete(key)
    if (keys?.size === 0) this.waiting.delete(entry.waitFor)
  }
}
