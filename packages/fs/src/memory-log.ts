/**
 * An in-memory FsLog: records are plain objects (ids are hashes of author and seq, no
 * signatures). For tests and simulations of many participants; never for real data.
 */
import type { Hash, Op, VersionEntry } from '@ivyfs/log'
import { createHash } from 'node:crypto'
import { fromHex, toHex } from './bytes.js'
import type { FsBlobs, FsLog } from './log-port.js'
import type { ViewRecord } from './model.js'

/** A blob pool; share one between simulated peers to model blob replication. */
export class MemoryBlobs implements FsBlobs {
  private readonly blobs = new Map<string, Uint8Array>()

  async put(data: Uint8Array): Promise<Hash> {
    const id = new Uint8Array(createHash('sha256').update(data).digest())
    this.blobs.set(toHex(id), new Uint8Array(data)) // a copy: slice() of a Buffer is a view
    return id
  }

  async read(id: Hash, length: number, offset: number, size: number): Promise<Uint8Array> {
    const blob = this.blobs.get(toHex(id))
    if (blob === undefined || blob.byteLength !== length) throw new Error(`blob missing: ${toHex(id)}`)
    return blob.subarray(offset, Math.min(length, offset + size))
  }

  async readInto(id: Hash, length: number, offset: number, target: Uint8Array): Promise<number> {
    const bytes = await this.read(id, length, offset, target.byteLength)
    target.set(bytes)
    return bytes.byteLength
  }
}

export class MemoryLog implements FsLog {
  private readonly logs = new Map<string, ViewRecord[]>()
  private readonly listeners = new Set<(record: ViewRecord) => void>()
  /** Full vv of our own newest record (other authors only). */
  private ownVv = new Map<string, number>()
  private timeMs = 0

  constructor(
    readonly keys: { readonly publicKey: Uint8Array },
    readonly blobs: FsBlobs = new MemoryBlobs()
  ) {}

  private log(author: string): ViewRecord[] {
    let log = this.logs.get(author)
    if (log === undefined) this.logs.set(author, (log = []))
    return log
  }

  /** Memory has nothing to flush: every append is as durable as it will ever be. */
  async sync(): Promise<void> {}

  async append(ops: Op[], init: { timeMs?: number; durable?: boolean } = {}): Promise<ViewRecord> {
    const author = toHex(this.keys.publicKey)
    const seq = this.log(author).length
    const vv: VersionEntry[] = []
    for (const [other, records] of [...this.logs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const held = records.length - 1
      if (other === author || held < 0 || (this.ownVv.get(other) ?? -1) >= held) continue
      vv.push({ author: fromHex(other), seq: held })
      this.ownVv.set(other, held)
    }
    this.timeMs = Math.max(this.timeMs + 1, init.timeMs ?? 0)
    const id = new Uint8Array(createHash('sha256').update(`${author}:${seq}`).digest())
    const record: ViewRecord = {
      id,
      body: { author: this.keys.publicKey, seq, vv, timeMs: this.timeMs, ops }
    }
    this.store(record)
    return record
  }

  /** A foreign record; the caller delivers records in causal order (else: an Error). */
  ingest(record: ViewRecord): 'stored' | 'duplicate' {
    const author = toHex(record.body.author)
    const log = this.log(author)
    if (record.body.seq < log.length) return 'duplicate'
    if (record.body.seq > log.length) throw new Error(`gap in ${author}: ${record.body.seq}`)
    for (const entry of record.body.vv) {
      if (this.length(entry.author) <= entry.seq) throw new Error('missing dependency')
    }
    this.store(record)
    return 'stored'
  }

  /** Whether every predecessor of `record` is held (it can be ingested now). */
  ready(record: ViewRecord): boolean {
    if (this.length(record.body.author) !== record.body.seq) return false
    return record.body.vv.every((entry) => this.length(entry.author) > entry.seq)
  }

  private store(record: ViewRecord): void {
    this.log(toHex(record.body.author)).push(record)
    for (const listener of this.listeners) listener(record)
  }

  onRecord(listener: (record: ViewRecord) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async *range(author: Uint8Array, fromSeq: number): AsyncIterable<ViewRecord> {
    yield* (this.logs.get(toHex(author)) ?? []).slice(fromSeq)
  }

  records(): ViewRecord[] {
    return [...this.logs.values()].flat()
  }

  authors(): Uint8Array[] {
    return [...this.logs.keys()].map(fromHex)
  }

  length(author: Uint8Array): number {
    return this.logs.get(toHex(author))?.length ?? 0
  }

  async close(): Promise<void> {
    this.listeners.clear()
  }
}
