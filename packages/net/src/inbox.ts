/**
 * The receiving half of a replication session: reads frames in order and acts on each.
 * - chunk: verified by hash and stored (the record that needs it follows).
 * - rec: checked for our fs id; if it references blobs we lack, its signature is checked first
 *   (never fetch data for a forged record), then the blobs are fetched; then it is ingested.
 *   Up to INGEST_WINDOW_RECORDS ingests are in flight, so the store group-commits them; their outcome
 *   decides what happens to the peer (ingest-outcome.ts).
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

  private async storeChunk(id: Uint8Array, bytes: Uint8Array): Promise<void> {
    try {
      await this.context.store.blobs.putChunk(id, bytes)
    } catch (err) {
      if (err instanceof Error && err.name === 'CorruptBlobError')
        throw new BadChunkError(toHex(id), err.message)
      throw err
    }
  }

  private async receive(bytes: Uint8Array): Promise<void> {
    const { store, fetcher, peer, signal, logger } = this.context
    const record = decodeOrBlame(bytes, false)
    if (!bytesEqual(record.body.fsId, store.fsId)) {
      throw new BadRecordError('WrongFsIdError', `record of filesystem ${toHex(record.body.fsId)}`)
    }
    const author = toHex(record.body.author)
    this.context.outbox.peerHolds(author, record.body.seq)
    this.context.onPeerVv(new Map([[author, record.body.seq]]))
    if (store.length(record.body.author) > record.body.seq) {
      // Already held (or a fork of it): the store decides which, without fetching any blob.
      await this.ingestInWindow(bytes, author, record.body.seq)
      return
    }
    const blobs = blobRefsOf(record.body.ops)
    if (blobs.length > 0) {
      let missing = false
      for (const blob of blobs) if (!(await store.blobs.has(blob.id, blob.length))) missing = true
      if (missing) {
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
          return
        }
      }
    }
    await this.ingestInWindow(bytes, author, record.body.seq)
  }

  /** Starts an ingest, then waits while the window of ingests in flight is full. */
  private async ingestInWindow(bytes: Uint8Array, author: string, seq: number): Promise<void> {
    const entry = { done: Promise.resolve(), bytes: bytes.byteLength, settled: false }
    entry.done = this.ingest(bytes, author, seq).finally(() => (entry.settled = true))
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

/** Decodes record bytes; anything that does not decode (or verify) is the sender's fault. */
function decodeOrBlame(bytes: Uint8Array, verify: boolean): SignedRecord {
  try {
    return decodeRecord(bytes, { verify })
  } catch (err) {
    const name = err instanceof Error ? err.name : 'unknown'
    throw new BadRecordError(name, err instanceof Error ? err.message : String(err))
  }
}
