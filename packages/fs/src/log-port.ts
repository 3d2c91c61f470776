/**
 * What the filesystem needs from a log: a LogStore from @ivyfs/log satisfies it, and so does
 * MemoryLog (tests, simulations). Keeping this seam small is what lets the same Filesystem run
 * over real LevelDB logs and over thousands of simulated ones.
 */
import type { Hash, Op, Sublevel } from '@ivyfs/log'
import type { ViewRecord } from './model.js'

export interface FsBlobs {
  /** Stores data (chunked by the store); returns its id. */
  put(data: Uint8Array): Promise<Hash>
  /** Bytes [offset, offset + size) of blob `id` of total length `length`. */
  read(id: Hash, length: number, offset: number, size: number): Promise<Uint8Array>
  /** `read` into `target`: bytes from `offset` (clipped to `length`) to target[0, n); returns n. */
  readInto(id: Hash, length: number, offset: number, target: Uint8Array): Promise<number>
}

export interface FsLog {
  readonly keys: { readonly publicKey: Uint8Array }
  readonly blobs: FsBlobs
  /** Appends one record holding all ops (atomic); resolves once durable. */
  append(ops: Op[], init?: { timeMs?: number }): Promise<ViewRecord>
  /** Every newly stored record (local or foreign), in causal order. */
  onRecord(listener: (record: ViewRecord) => void): () => void
  range(author: Uint8Array, fromSeq: number): AsyncIterable<ViewRecord>
  authors(): Uint8Array[]
  length(author: Uint8Array): number
  /** A sublevel of the store's database; absent on memory logs. */
  sublevel?(name: string): Sublevel
  /** The store's directory, where the fs keeps files it derives (snapshots); absent on memory logs. */
  readonly directory?: string
  close(): Promise<void>
}
