/**
 * The sending half of a replication session. It keeps `sentVv`: what the peer holds (its Hello
 * and Have messages, records it sent us) or has been sent. Two modes:
 * - catch-up: read every record the store holds beyond sentVv and send them in causal order
 *   (a merge of the per-author logs: a record goes once its delta dependencies are covered);
 * - live: records the store announces are queued (bounded) and sent as they come (ours at once,
 *   others' when the replicator relays them). If the queue overflows, or a queued record is not
 *   the next one the peer needs, fall back to catch-up.
 * Sending awaits the stream's drain, so a slow peer slows this loop, never our memory.
 * Blobs of records authored here are pushed (as chunk messages) before the record; records of
 * other authors travel alone and the receiver pulls their blobs (no duplicate pushes in a mesh).
 */
import { bytesEqual, fromHex, toHex, type LogStore, type SignedRecord, type VersionVector } from '@ivyfs/log'
import { blobRefsOf, readBlobChunks } from './blob-chunks.js'
import {
  LIVE_QUEUE_BYTES_MAX,
  LIVE_QUEUE_RECORDS_MAX,
  PUSHED_BLOBS_REMEMBERED,
  RESYNC_REQUEST_SPACING_MIN_MS
} from './constants.js'
import { UnexpectedMessageError, describeError } from './errors.js'
import type { Logger } from './logger.js'
import { RecentSet } from './recent-set.js'
import type { ReplicateMessage } from './replicate-messages.js'

export interface OutboxContext {
  store: LogStore
  send: (message: ReplicateMessage) => Promise<void>
  logger: Logger
  signal: AbortSignal
}

function held(vv: VersionVector, author: string): number {
  return vv.get(author) ?? -1
}

export class Outbox {
  private sentVv: VersionVector
  private queue: SignedRecord[] = []
  private queueBytes = 0
  private catchUpNeeded = true
  /** Bumped by a reset: a catch-up started before it stops early. */
  private generation = 0
  private wake: (() => void) | undefined
  private lastResetMs = -Infinity
  private readonly pushed = new RecentSet(PUSHED_BLOBS_REMEMBERED)
  private readonly localAuthor: Uint8Array
  recordsSent = 0

  /** Records waiting in the live queue (bounded by LIVE_QUEUE_RECORDS_MAX). */
  get queuedRecords(): number {
    return this.queue.length
  }

  constructor(
    private readonly context: OutboxContext,
    peerVv: VersionVector
  ) {
    this.sentVv = new Map(peerVv)
    this.localAuthor = context.store.keys.publicKey
    context.signal.addEventListener('abort', () => this.wake?.(), { once: true })
  }

  /** A record the store just stored; queued unless the peer has it. */
  offer(record: SignedRecord): void {
    const author = toHex(record.body.author)
    if (held(this.sentVv, author) >= record.body.seq) return
    this.queue.push(record)
    this.queueBytes += record.bytes.byteLength
    if (this.queue.length > LIVE_QUEUE_RECORDS_MAX || this.queueBytes > LIVE_QUEUE_BYTES_MAX) {
      this.context.logger.debug('live queue overflowed; catching up from the peer version vector')
      this.requestCatchUp()
      return
    }
    this.wake?.()
  }

  /** Sends everything the peer lacks as far as sentVv knows, then goes on live. */
  requestCatchUp(): void {
    this.dropQueue()
    this.catchUpNeeded = true
    this.wake?.()
  }

  /** The peer says it holds at least `vv`; with reset, exactly `vv` (resend from there). */
  peerHas(vv: VersionVector, reset: boolean): void {
    if (reset) {
      const now = Date.now()
      if (now - this.lastResetMs < RESYNC_REQUEST_SPACING_MIN_MS) {
        throw new UnexpectedMessageError('at most one resync request per second', 'a resync flood')
      }
      this.lastResetMs = now
      this.sentVv = new Map(vv)
      this.generation++
      this.requestCatchUp()
      return
    }
    for (const [author, seq] of vv) if (seq > held(this.sentVv, author)) this.sentVv.set(author, seq)
  }

  /** The peer sent us this record, so it holds it (and, its store being closed, its past). */
  peerHolds(author: string, seq: number): void {
    if (seq > held(this.sentVv, author)) this.sentVv.set(author, seq)
  }

  async run(): Promise<void> {
    const { signal } = this.context
    while (!signal.aborted) {
      if (this.catchUpNeeded) {
        this.catchUpNeeded = false
        await this.catchUp()
        continue
      }
      const record = this.queue.shift()
      if (record === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve))
        this.wake = undefined
        continue
      }
      this.queueBytes -= record.bytes.byteLength
      if (held(this.sentVv, toHex(record.body.author)) >= record.body.seq) continue
      if (!this.ready(record)) {
        this.dropQueue()
        this.catchUpNeeded = true
        continue
      }
      await this.sendRecord(record)
    }
  }

  private dropQueue(): void {
    this.queue = []
    this.queueBytes = 0
  }

  /**
   * Whether the record may go now: the peer holds (or was sent) its author's previous record and,
   * unless it is ours, everything else it depends on. Ours go at once: the peer keeps one whose
   * other dependencies it lacks until they arrive, from their authors or relayed (RELAY_DELAY_MS),
   * so that an exclusive create's Ack does not drag the Prepare it covers along on every hop.
   */
  private ready(record: SignedRecord): boolean {
    const { author, seq, vv } = record.body
    if (held(this.sentVv, toHex(author)) < seq - 1) return false
    if (bytesEqual(author, this.localAuthor)) return true
    return vv.every((entry) => held(this.sentVv, toHex(entry.author)) >= entry.seq)
  }

  private async catchUp(): Promise<void> {
    const { store, signal, logger } = this.context
    const generation = this.generation
    const cursors: Cursor[] = []
    for (const [author, last] of store.durable.versionVector()) {
      const from = held(this.sentVv, author) + 1
      if (from <= last) cursors.push(await Cursor.open(store, author, from, last + 1))
    }
    try {
      while (cursors.length > 0) {
        let progressed = false
        for (const cursor of cursors) {
          for (let record = cursor.head; record !== undefined; record = cursor.head) {
            if (signal.aborted || this.generation !== generation) return
            const covered = held(this.sentVv, cursor.author) >= record.body.seq
            if (!covered && !this.ready(record)) break
            if (!covered) await this.sendRecord(record)
            await cursor.advance()
            progressed = true
          }
        }
        for (let i = cursors.length - 1; i >= 0; i--)
          if (cursors[i]!.head === undefined) cursors.splice(i, 1)[0]!.close()
        const stuck = cursors[0]
        if (!progressed && stuck?.head !== undefined) {
          // Cannot happen with a causally closed store unless the peer misreported its vector;
          // send anyway so the session cannot stall: the receiver parks it in its pending pool.
          logger.warn('catch-up found no record whose dependencies the peer holds; sending in log order')
          await this.sendRecord(stuck.head)
          await stuck.advance()
        }
      }
    } finally {
      for (const cursor of cursors) cursor.close()
    }
  }

  private async sendRecord(record: SignedRecord): Promise<void> {
    if (bytesEqual(record.body.author, this.localAuthor)) await this.pushBlobs(record)
    await this.context.send({ t: 'rec', bytes: record.bytes })
    this.peerHolds(toHex(record.body.author), record.body.seq)
    this.recordsSent++
  }

  private async pushBlobs(record: SignedRecord): Promise<void> {
    const { store, send, logger } = this.context
    for (const blob of blobRefsOf(record.body.ops)) {
      const hex = toHex(blob.id)
      if (this.pushed.has(hex)) continue
      try {
        for await (const chunk of readBlobChunks(store.blobs, blob)) {
          await send({ t: 'chunk', id: chunk.id, bytes: chunk.bytes })
        }
      } catch (err) {
        // The receiver will pull what is missing from whoever has it; say why we could not push.
        if (this.context.signal.aborted) throw err
        logger.warn('could not push a blob of a local record', { blob: hex, ...describeError(err) })
      }
      this.pushed.add(hex)
    }
  }
}

/** One author's records [from, to) in seq order, read lazily. */
class Cursor {
  head: SignedRecord | undefined

  private constructor(
    readonly author: string,
    private readonly iterator: AsyncGenerator<SignedRecord>
  ) {}

  static async open(store: LogStore, author: string, from: number, to: number): Promise<Cursor> {
    const cursor = new Cursor(author, store.range(fromHex(author), from, to))
    await cursor.advance()
    return cursor
  }

  async advance(): Promise<void> {
    const next = await this.iterator.next()
    this.head = next.done === true ? undefined : next.value
  }

  close(): void {
    this.head = undefined
    this.iterator.return(undefined).catch(() => undefined)
  }
}
