/**
 * Every log of one filesystem, in one directory: the bytes in append-only pack files, indexed by
 * a LevelDB (docs/FORMAT.md §5). Every write goes through the LogWriter (serialised,
 * group-committed, flushed); reads find frames through the index. The store is causally closed: a
 * record is held only once everything it depends on is held, and onRecord announces records in
 * an order consistent with causality, once written. A lazy append is durable a moment later (the
 * group commit); the `durable` view (what the network may send) holds only durable records.
 */
import assert from 'node:assert/strict'
import type { Hash, Op, SignedRecord } from './types.js'
import { StoreClosedError } from './errors.js'
import { compareBytes, copyBytes, fromHex, toHex } from './bytes.js'
import type { KeyPair } from './keys.js'
import { openSublevel, type Sublevel } from './database.js'
import { BlobStore } from './blob-store.js'
import { checkForeignBytes, type IsMember } from './ingest-check.js'
import { decodeStoredRecord } from './load-state.js'
import { SUBLEVEL_EXTERNAL, type AuthorHead } from './layout.js'
import { listForks, type ForkEvidence } from './fork-evidence.js'
import { LogWriter, type IngestResult } from './log-writer.js'
import { closeStoreParts, openStoreParts, type StoreComponents, type StoreParts } from './store-open.js'
import type { VersionVector } from './version-vector.js'

export interface LogStoreInit {
  /** Directory of the store: the LevelDB files and `packs/` (created if missing). */
  path: string
  fsId: Hash
  /** This participant: the author of every local append. */
  keys: KeyPair
  /** Whether a foreign record's author may write it; default: everyone may. */
  isMember?: IsMember
  /** A background flush of lazy appends failed (it is retried); default: ignored. */
  onFlushFailure?: (err: unknown) => void
}

export interface AppendInit {
  /** The record's wall-clock time (default Date.now()): informational only. */
  timeMs?: number
  /**
   * Default true: resolve once durable. False: resolve once written (a killed process loses
   * nothing; the kernel holds it) and let the group commit make it durable within
   * DURABILITY_WINDOW_MS. Either way the record reaches the `durable` view only once durable.
   */
  durable?: boolean
}

/** The records of a store that are durable: all a peer may be sent (a power loss keeps them). */
export interface DurableView {
  /** Highest durable seq per author, as a new map. */
  versionVector(): VersionVector
  /** Durable records of author: seqs 0 .. length - 1. */
  length(author: Uint8Array): number
  /** Calls listener with each record once durable, in causal order; returns the unsubscribe. */
  onRecord(listener: (record: SignedRecord) => void): () => void
}

/** Test seam (not exported from index.ts): components a store opened with `init` uses. */
const injected = new WeakMap<LogStoreInit, StoreComponents>()

export function withComponents(init: LogStoreInit, components: StoreComponents): LogStoreInit {
  injected.set(init, components)
  return init
}

export class LogStore {
  readonly fsId: Hash
  readonly keys: KeyPair
  /** The store's directory (LevelDB, packs/, and files other packages derive from the logs). */
  readonly directory: string
  readonly blobs: BlobStore
  readonly #parts: StoreParts
  readonly #heads: Map<string, AuthorHead>
  readonly #writer: LogWriter
  readonly #listeners = new Set<(record: SignedRecord) => void>()
  readonly #durableListeners = new Set<(record: SignedRecord) => void>()
  /** Durable records per author (lengths): behind #heads by what the group commit has not flushed. */
  readonly #durableLengths = new Map<string, number>()
  /** What the network may send: durable records only. */
  readonly durable: DurableView
  readonly #external = new Map<string, Sublevel>()
  #closed: Promise<void> | undefined

  private constructor(init: LogStoreInit, parts: StoreParts) {
    this.fsId = copyBytes(init.fsId)
    this.keys = init.keys
    this.directory = init.path
    this.#parts = parts
    this.#heads = parts.heads
    this.#writer = new LogWriter({
      sub: parts.sub,
      packs: parts.packs,
      index: parts.index,
      records: parts.records,
      keys: init.keys,
      fsId: this.fsId,
      isMember: init.isMember ?? (() => true),
      heads: parts.heads,
      forkKeys: parts.forkKeys,
      readId: async (authorHex, seq) => parts.records.readId(authorHex, seq),
      ...(init.onFlushFailure && { flushFailed: init.onFlushFailure }),
      written: (records) => announce(this.#listeners, records),
      durable: (records) => {
        for (const record of records) this.#durableLengths.set(toHex(record.body.author), record.body.seq + 1)
        announce(this.#durableListeners, records)
      }
    })
    for (const [authorHex, head] of parts.heads) this.#durableLengths.set(authorHex, head.length)
    this.durable = {
      versionVector: () => {
        const vector: VersionVector = new Map()
        for (const [author, length] of this.#durableLengths) vector.set(author, length - 1)
        return vector
      },
      length: (author) => this.#durableLengths.get(toHex(author)) ?? 0,
      onRecord: (listener) => subscribe(this.#durableListeners, listener)
    }
    const write = (durable: boolean) => async (puts: Parameters<LogWriter['putBlobs']>[0]) => {
      this.#checkOpen()
      return this.#writer.putBlobs(puts, durable)
    }
    this.blobs = new BlobStore({
      hasChunks: async (ids) => parts.chunks.has(ids),
      readChunks: async (ids) => parts.chunks.read(ids),
      readChunksInto: async (ids, targets) => parts.chunks.readInto(ids, targets),
      writeDurably: write(true),
      writeUnsynced: write(false)
    })
  }

  static async open(init: LogStoreInit): Promise<LogStore> {
    return new LogStore(init, await openStoreParts(init.path, init.fsId, injected.get(init) ?? {}))
  }

  /** Builds, signs and stores one record holding all of `ops` (all or nothing); see AppendInit. */
  async append(ops: Op[], init: AppendInit = {}): Promise<SignedRecord> {
    this.#checkOpen()
    return this.#writer.append([...ops], init.timeMs ?? Date.now(), init.durable ?? true)
  }

  /** Resolves once every record and chunk written before the call is durable (fsync). */
  async sync(): Promise<void> {
    this.#checkOpen()
    return this.#writer.sync()
  }

  /**
   * Verifies and stores a record from a peer (lazily: durable with the group commit, and only
   * then in the durable view); throws a typed RecordError (store unchanged).
   */
  async ingest(bytes: Uint8Array): Promise<IngestResult> {
    this.#checkOpen()
    return this.#writer.ingest(checkForeignBytes(bytes, this.fsId))
  }

  async get(author: Uint8Array, seq: number): Promise<SignedRecord | undefined> {
    this.#checkOpen()
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.length(author)) return undefined
    const authorHex = toHex(author)
    return decodeStoredRecord(await this.#parts.records.bytes(authorHex, seq), authorHex, seq)
  }

  /** Records fromSeq .. toSeqExclusive - 1 (clipped to what is held), in seq order. */
  async *range(author: Uint8Array, fromSeq: number, toSeqExclusive?: number): AsyncGenerator<SignedRecord> {
    this.#checkOpen()
    assert(Number.isSafeInteger(fromSeq) && fromSeq >= 0, 'fromSeq is a non-negative integer')
    const authorHex = toHex(author)
    const end = Math.min(toSeqExclusive ?? Number.MAX_SAFE_INTEGER, this.length(author))
    if (fromSeq >= end) return
    let seq = fromSeq
    for await (const bytes of this.#parts.records.range(authorHex, fromSeq, end)) {
      yield decodeStoredRecord(bytes, authorHex, seq)
      seq++
    }
    assert.equal(seq, end, 'a log has no holes below its head')
  }

  /** Every author with at least one record held, sorted by key bytes. */
  authors(): Uint8Array[] {
    return [...this.#heads.keys()].map(fromHex).sort(compareBytes)
  }

  /** Records held from author: seqs 0 .. length - 1. */
  length(author: Uint8Array): number {
    return this.#heads.get(toHex(author))?.length ?? 0
  }

  /** Id of the author's last record held, if any. */
  headId(author: Uint8Array): Hash | undefined {
    const head = this.#heads.get(toHex(author))
    return head === undefined ? undefined : copyBytes(head.headId)
  }

  /** Highest seq held per author (own log included), as a new map. */
  versionVector(): VersionVector {
    const vector: VersionVector = new Map()
    for (const [author, head] of this.#heads) vector.set(author, head.length - 1)
    return vector
  }

  async forks(): Promise<ForkEvidence[]> {
    this.#checkOpen()
    const { index, records, sub } = this.#parts
    await index.settled()
    return listForks(
      sub,
      async (key) => records.forkBytes(key),
      async (authorHex, seq) => records.readId(authorHex, seq)
    )
  }

  /**
   * Calls listener with every newly stored record (local or foreign), once written, in causal
   * order. A listener that throws does not undo the commit: its error is rethrown asynchronously
   * (an uncaught exception, as for any programmer error). Returns the unsubscribe function.
   */
  onRecord(listener: (record: SignedRecord) => void): () => void {
    return subscribe(this.#listeners, listener)
  }

  /** A sublevel of this store's LevelDB for another package's state (string keys, byte values). */
  sublevel(name: string): Sublevel {
    let sublevel = this.#external.get(name)
    if (sublevel === undefined) {
      sublevel = openSublevel(this.#parts.db, [SUBLEVEL_EXTERNAL, name])
      this.#external.set(name, sublevel)
    }
    return sublevel
  }

  /**
   * Refuses new work, waits for queued writes, flushes the packs and the index (with a final
   * checkpoint, so the next open scans nothing), then closes the files. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#writer.idle()
      await closeStoreParts(this.#parts)
    })()
    return this.#closed
  }

  #checkOpen(): void {
    if (this.#closed !== undefined) throw new StoreClosedError()
  }
}

type Listener = (record: SignedRecord) => void

function subscribe(listeners: Set<Listener>, listener: Listener): () => void {
  const wrapped: Listener = (record) => listener(record)
  listeners.add(wrapped)
  return () => listeners.delete(wrapped)
}

/** Tells each listener of each record; a throwing listener's error is rethrown asynchronously. */
function announce(listeners: Set<Listener>, records: SignedRecord[]): void {
  for (const record of records) {
    for (const listener of listeners) {
      try {
        listener(record)
      } catch (err) {
        process.nextTick(() => {
          throw err
        })
      }
    }
  }
}
