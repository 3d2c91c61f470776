/**
 * The receiving half of a replication session: reads frames in order and acts on each.
 * - chunk: verified by hash and stored; the loop does not wait for the put (the record that
 *   needs it follows, and waits for it).
 * - rec: checked for our fs id; then, in the window: once the chunks stored before it have
 *   landed, if it references blobs we lack its signature is checked first (never fetch data for
 *   a forged record), then the blobs are fetched; then it is ingested, in arrival order.
 *   Up to INGEST_WINDOW_RECORDS ingests and chunk puts (INGEST_WINDOW_BYTES) are in flight, so the
 *   store group-commits them; their outcome decides what happens to the peer (ingest-outcome.ts).
 * - have: the peer's progress, for the outbox.  bye: the peer is leaving; stop.
 * Any PeerError thrown here ends the session and disconnects the peer.
 */
import {
  bytesEqual,
  decodeRecord,
  toHex,
  type LogStore,
  type SignedRecord,
  type VersionVector
} from '@ivyfs/log'
import { blobRefsOf } from './blob-chunks.js'
import type { BlobFetcher } from './blob-fetcher.js'
import { INGEST_WINDOW_BYTES, INGEST_WINDOW_RECORDS } from './constants.js'
import { BadChunkError, BadRecordError, NetError, UnexpectedMessageError, describeError } from './errors.js'
import type { FrameReader } from './frame.js'
import { classifyIngestError } from './ingest-outcome.js'
import type { Logger } from './logger.js'
import type { Outbox } from './outbox.js'
import type { PendingEntry } from './pending-pool.js'
import { decodeReplicateMessage } from './replicate-messages.js'

export interface InboxContext {
  store: LogStore
  reader: FrameReader
  peer: string
  outbox: Outbox
  fetcher: BlobFetcher
  /** Keeps a record whose dependency is missing until the store holds it. */
  park: (entry: PendingEntry) => void
  /** Asks the peer to resend everything beyond our real version vector. */
  requestResync: () => void
  /** The peer reported (or proved, by sending) what it holds. */
  onPeerVv: (vv: VersionVector) => void
  /** An ingest in flight was refused in a way that ends the session. */
  fail: (err: Error) => void
  logger: Logger
  signal: AbortSignal
}

export class Inbox {
  private inflight: Array<{ done: Promise<void>; bytes: number; settled: boolean }> = []
  private inflightBytes = 0
  /** Chunk puts started and not yet finished. */
  private readonly chunkWrites = new Set<Promise<void>>()
  /** Resolves once the last received record was handed to the store (or set aside). */
  private handedOver: Promise<void> = Promise.resolve()
  private failure: Error | undefined
  recordsStored = 0
  /** Set when the peer said goodbye, with its reason. */
  byeReason: string | undefined

  constructor(private readonly context: InboxContext) {}

  async run(): Promise<void> {
    const { reader, signal } = this.context
    try {
      for (;;) {
        this.checkFailure()
        const frame = await reader.next(signal)
        if (frame === null) return
        const message = decodeReplicateMessage(frame)
        switch (message.t) {
          case 'hello':
            throw new UnexpectedMessageError('have, rec, chunk or bye', 'a second hello')
          case 'have':
            this.context.onPeerVv(message.vv)
            this.context.outbox.peerHas(message.vv, message.reset)
            break
          case 'chunk':
            await this.storeChunk(message.id, message.bytes)
            break
          case 'rec':
            await this.receive(message.bytes)
            break
          case 'bye':
            this.byeReason = message.reason
            return
        }
      }
    } finally {
      await Promise.all(this.inflight.map((ingest) => ingest.done))
      this.inflight = []
      this.inflightBytes = 0
    }
  }

  /** Throws the first refusal of an in-flight ingest that ends the session. */
  checkFailure(): void {
    if (this.failure !== undefined) throw this.failure
  }

  /**
   * Starts storing a chunk without waiting for it: a put waits for the commit group ahead of it
   * (often an fsync of earlier records), and the frames behind it need not. The record that needs
   * the chunk waits for it instead (receive). Counted in the window like an ingest.
   */
  private async storeChunk(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    const write = this.putChunk(id, bytes)
    this.chunkWrites.add(write)
    void write.then(() => this.chunkWrites.delete(write))
    await this.track(write, bytes.byteLength)
  }

  /** Never rejects: a refusal is recorded and surfaces through checkFailure. */
  private async putChunk(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    try {
      await this.context.store.blobs.putChunk(id, bytes)
    } catch (err) {
      if (err instanceof Error && err.name === 'CorruptBlobError')
        this.setFailure(new BadChunkError(toHex(id), err.message))
      else this.setFailure(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /**
   * Checks what can be checked at once (encoding, fs id), then lets the record wait in the window
   * for its blobs (chunks being stored, or a fetch) while the next frames are read. Records are
   * handed to the store in the order they arrived, so it still sees them in causal order.
   */
  private async receive(bytes: Uint8Array): Promise<void> {
    const { store } = this.context
    const record = decodeOrBlame(bytes, false)
    if (!bytesEqual(record.body.fsId, store.fsId)) {
      throw new BadRecordError('WrongFsIdError', `record of filesystem ${toHex(record.body.fsId)}`)
    }
    const author = toHex(record.body.author)
    this.context.outbox.peerHolds(author, record.body.seq)
    this.context.onPeerVv(new Map([[author, record.body.seq]]))
    // Already held (or a fork of it): the store decides which, without fetching any blob.
    const held = store.length(record.body.author) > record.body.seq
    const chunkWrites = held ? [] : [...this.chunkWrites]
    const previous = this.handedOver
    let handOver!: () => void
    this.handedOver = new Promise((resolve) => (handOver = resolve))
    const done = this.prepareAndIngest({ record, bytes, author, held, chunkWrites, previous, handOver })
    await this.track(done, bytes.byteLength)
  }

  /** Never rejects: a refusal is recorded and surfaces through checkFailure. */
  private async prepareAndIngest(job: {
    record: SignedRecord
    bytes: Uint8Array
    author: string
    held: boolean
    chunkWrites: Array<Promise<void>>
    previous: Promise<void>
    handOver: () => void
  }): Promise<void> {
    try {
      const ready = job.held || (await this.ensureBlobs(job.record, job.bytes, job.author, job.chunkWrites))
      await job.previous
      if (!ready) return
      // store.ingest queues the record synchronously: the next record may be handed over now.
      const ingest = this.ingest(job.bytes, job.author, job.record.body.seq)
      job.handOver()
      await ingest
    } catch (err) {
      this.setFailure(err instanceof Error ? err : new Error(String(err)))
    } finally {
      job.handOver()
    }
  }

  /** Whether every blob the record references is held, fetching what is not; false: set aside. */
  private async ensureBlobs(
    record: SignedRecord,
    bytes: Uint8Array,
    author: string,
    chunkWrites: Array<Promise<void>>
  ): Promise<boolean> {
    const { store, fetcher, peer, signal, logger } = this.context
    const blobs = blobRefsOf(record.body.ops)
    if (blobs.length === 0) return true
    // The author pushed this record's chunks just before it: let them land first.
    await Promise.all(chunkWrites)
    let missing = false
    for (const blob of blobs) if (!(await store.blobs.has(blob.id, blob.length))) missing = true
    if (!missing) return true
    decodeOrBlame(bytes, true)
    try {
      await fetcher.ensure(blobs, peer, signal)
    } catch (err) {
      if (signal.aborted || !(err instanceof NetError)) throw err
      logger.warn('record set aside: its blob could not be fetched', {
        author,
        seq: record.body.seq,
        ...describeError(err)
      })
      this.context.requestResync()
      return false
    }
    return true
  }

  /** Adds work to the window, then waits while the window (records and bytes in flight) is full. */
  private async track(done: Promise<void>, bytes: number): Promise<void> {
    const entry = { done, bytes, settled: false }
    void done.then(() => (entry.settled = true))
    this.inflight.push(entry)
    this.inflightBytes += entry.bytes
    for (;;) {
      const oldest = this.inflight[0]
      if (oldest === undefined) break
      const full = this.inflight.length >= INGEST_WINDOW_RECORDS || this.inflightBytes > INGEST_WINDOW_BYTES
      if (!full && !oldest.settled) break
      await oldest.done
      this.inflight.shift()
      this.inflightBytes -= oldest.bytes
    }
  }

  /** Never rejects: a refusal is recorded and surfaces through checkFailure. */
  private async ingest(bytes: Uint8Array, author: string, seq: number): Promise<void> {
    const { store, logger, peer } = this.context
    try {
      const result = await store.ingest(bytes)
      if (result.status === 'stored') this.recordsStored++
      if (result.status === 'fork')
        logger.warn('peer sent a second record for one (author, seq): fork kept as evidence', { author, seq })
    } catch (err) {
      const outcome = classifyIngestError(err)
      switch (outcome.kind) {
        case 'violation':
          this.setFailure(
            new BadRecordError(outcome.reason, err instanceof Error ? err.message : String(err))
          )
          break
        case 'wait':
          this.context.park({
            key: `${author}:${seq}`,
            bytes,
            from: peer,
            waitFor: `${outcome.author}:${outcome.seq}`
          })
          break
        case 'drop':
          logger.warn('record refused by the store', { author, seq, reason: outcome.reason })
          break
        case 'fatal':
          this.setFailure(err instanceof Error ? err : new Error(String(err)))
          break
      }
    }
  }

  private setFailure(err: Error): void {
    if (this.failure !== undefined) return
    this.failure = err
    this.context.fail(err)
  }
}

/**
 * Decodes record bytes; anything that does not decode (or verify) is the sender's fault. The
 * decoded record is kept for these bytes, so the store's ingest does not decode them again.
 */
function decodeOrBlame(bytes: Uint8Array, verify: boolean): SignedRecord {
  try {
    return decodeRecord(bytes, { verify, keep: true })
  } catch (err) {
    const name = err instanceof Error ? err.name : 'unknown'
    throw new BadRecordError(name, err instanceof Error ? err.message : String(err))
  }
}
