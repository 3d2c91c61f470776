/**
 * What the filesystem needs from a log: a LogStore from @ivyfs/log satisfies it, and so does
 * MemoryLog (tests, simulations). Keeping this seam small is what lets the same Filesystem run
 * over real LevelDB logs and over thousands of simulated ones.
 */
import type { Hash, Op, Sublevel } from '@ivyfs/log'
import type { ViewRecord } from './model.js'

export interface FsBlobs {
  /**
   * Stores data (chunked by the store); returns its id. `durable: false` as for appends: written
   * now, durable with the group commit (always before any record appended after it).
   */
  put(data: Uint8Array, init?: { owned?: boolean; durable?: boolean }): Promise<Hash>
  /** Bytes [offset, offset + size) of blob `id` of total length `length`. */
  read(id: Hash, length: number, offset: number, size: number): Promise<Uint8Array>
  /** `read` into `target`: bytes from `offset` (clipped to `length`) to target[0, n); returns n. */
  readInto(id: Hash, length: number, offset: number, target: Uint8Array): Promise<number>
}

export interface FsLog {
  readonly keys: { readonly publicKey: Uint8Array }
  readonly blobs: FsBlobs
  /**
   * Appends one record holding all ops (atomic). Resolves once durable, or with `durable: false`
   * once written (a killed process loses nothing) and made durable by the log's group commit
   * soon after; peers are sent a record only once it is durable either way.
   */
  append(ops: Op[], init?: { timeMs?: number; durable?: boolean }): Promise<ViewRecord>
  /** Resolves once every record appended before the call is durable (fsync). */
  sync(): Promise<void>
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
