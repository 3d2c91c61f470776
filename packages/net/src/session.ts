/**
 * One replication session with one peer over one /ivyfs/replicate/1 stream. Both sides send
 * Hello {wire version, fs id, version vector} at once and check the other's within
 * HANDSHAKE_TIMEOUT_MS; then the outbox (sending) and inbox (receiving) run side by side until
 * either ends. Ending: `close` says bye and closes the stream gracefully; a PeerError aborts the
 * stream and the whole connection (the peer misbehaved), logged with the reason.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { bytesEqual, toHex, type LogStore, type VersionVector } from '@ivyfs/log'
import type { BlobFetcher } from './blob-fetcher.js'
import {
  HANDSHAKE_TIMEOUT_MS,
  REPLICATE_WIRE_VERSION,
  RESYNC_INTERVAL_MAX_MS,
  RESYNC_INTERVAL_MS
} from './constants.js'
import {
  HandshakeTimeoutError,
  SessionRefusedError,
  UnexpectedMessageError,
  WireVersionError,
  WrongFilesystemError
} from './errors.js'
import { FrameReader, encodeFrame, writeFrame } from './frame.js'
import { Inbox } from './inbox.js'
import type { Logger } from './logger.js'
import { Outbox } from './outbox.js'
import type { PendingEntry } from './pending-pool.js'
import {
  decodeReplicateMessage,
  encodeReplicateMessage,
  type ReplicateMessage
} from './replicate-messages.js'

export interface SessionComponents {
  store: LogStore
  fetcher: BlobFetcher
  park: (entry: PendingEntry) => void
  logger: Logger
}

export interface SessionInit {
  stream: Stream
  connection: Connection
  peer: string
  /** Key hex of the side that opened the stream (decides between duplicate sessions). */
  initiator: string
}

export class Session {
  readonly peer: string
  readonly initiator: string
  readonly stream: Stream
  readonly connection: Connection
  readonly openedAtMs = Date.now()
  /** What the peer holds, as far as it told us (Hello, Have) or showed us (records it sent). */
  peerVv: VersionVector = new Map()
  private readonly controller = new AbortController()
  private readonly reader: FrameReader
  private outbox: Outbox | undefined
  private inbox: Inbox | undefined
  private lastHave: VersionVector = new Map()
  private resyncAtMs = 0
  private resyncIntervalMs = RESYNC_INTERVAL_MS
  private failLater: (err: Error) => void = () => undefined
  /** Why we ended the session, if we did (close or abort). */
  closedLocally: string | undefined

  constructor(
    private readonly components: SessionComponents,
    init: SessionInit
  ) {
    this.peer = init.peer
    this.initiator = init.initiator
    this.stream = init.stream
    this.connection = init.connection
    this.reader = new FrameReader(init.stream)
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  get recordsSent(): number {
    return this.outbox?.recordsSent ?? 0
  }

  /** Why the session ended, as far as known: ours, the peer's bye, or nothing yet. */
  get endReason(): string | undefined {
    const bye = this.inbox?.byeReason
    return this.closedLocally ?? (bye === undefined ? undefined : `peer said: ${bye}`)
  }

  get recordsStored(): number {
    return this.inbox?.recordsStored ?? 0
  }

  /** Exchanges Hello messages; throws a PeerError (or SessionRefusedError) if the peer is not fit. */
  async handshake(): Promise<void> {
    const { store } = this.components
    const vv = store.durable.versionVector()
    this.lastHave = vv
    await this.send({ t: 'hello', version: REPLICATE_WIRE_VERSION, fsId: store.fsId, vv })
    const timeout = AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS)
    let frame: Uint8Array | null
    try {
      frame = await this.reader.next(AbortSignal.any([this.signal, timeout]))
    } catch (err) {
      if (timeout.aborted) throw new HandshakeTimeoutError(HANDSHAKE_TIMEOUT_MS)
      throw err
    }
    if (frame === null) throw new SessionRefusedError(this.peer, 'stream closed before hello')
    const hello = decodeReplicateMessage(frame)
    if (hello.t === 'bye') throw new SessionRefusedError(this.peer, hello.reason)
    if (hello.t !== 'hello') throw new UnexpectedMessageError('hello', hello.t)
    if (hello.version !== REPLICATE_WIRE_VERSION)
      throw new WireVersionError(hello.version, REPLICATE_WIRE_VERSION)
    if (!bytesEqual(hello.fsId, store.fsId))
      throw new WrongFilesystemError(toHex(store.fsId), toHex(hello.fsId))
    this.peerVv = hello.vv
  }

  /** Runs both halves until the session ends; rejects with the reason if it ended badly. */
  async run(): Promise<void> {
    const { store, fetcher, park, logger } = this.components
    const signal = this.signal
    const outbox = new Outbox(
      { store, send: async (message) => this.send(message), logger, signal },
      this.peerVv
    )
    const inbox = new Inbox({
      store,
      reader: this.reader,
      peer: this.peer,
      outbox,
      fetcher,
      park,
      requestResync: () => this.requestResync(),
      onPeerVv: (vv) => this.notePeerVv(vv),
      fail: (err) => this.failLater(err),
      logger,
      signal
    })
    this.outbox = outbox
    this.inbox = inbox
    const failed = new Promise<never>((_, reject) => (this.failLater = reject))
    const halves = [inbox.run(), outbox.run(), failed]
    for (const half of halves) half.catch(() => undefined)
    try {
      // The inbox ends on bye or end of stream, the outbox only when the session is aborted, and
      // `failed` when an ingest in flight is refused in a way that ends the session.
      await Promise.race(halves)
      if (inbox.byeReason !== undefined) logger.info('peer closed the session', { reason: inbox.byeReason })
    } finally {
      this.controller.abort()
      this.reader.detach()
    }
  }

  /** A record the store just stored: pass it to the peer if it lacks it. */
  offer(record: Parameters<Outbox['offer']>[0]): void {
    this.outbox?.offer(record)
  }

  /** Sends the peer whatever it lacks as far as we know (a relay too large to queue). */
  catchUp(): void {
    this.outbox?.requestCatchUp()
  }

  /** Tells the peer what we now hold (only the entries that changed since the last Have). */
  sendHave(vv: VersionVector): void {
    const delta: VersionVector = new Map()
    for (const [author, seq] of vv) if (seq > (this.lastHave.get(author) ?? -1)) delta.set(author, seq)
    if (delta.size === 0 || this.outbox === undefined) return
    this.lastHave = vv
    this.sendNow({ t: 'have', vv: delta, reset: false })
  }

  /** Asks the peer to resend from our real vector; rate-limited with doubling intervals. */
  requestResync(): void {
    const now = Date.now()
    if (now < this.resyncAtMs) return
    // A quiet spell as long as the longest interval means the last trouble is over: start fresh.
    if (now - this.resyncAtMs > RESYNC_INTERVAL_MAX_MS) this.resyncIntervalMs = RESYNC_INTERVAL_MS
    this.resyncAtMs = now + this.resyncIntervalMs
    this.resyncIntervalMs = Math.min(this.resyncIntervalMs * 2, RESYNC_INTERVAL_MAX_MS)
    const vv = this.components.store.durable.versionVector()
    this.lastHave = vv
    this.sendNow({ t: 'have', vv, reset: true })
  }

  /** Ends the session politely: bye with a reason, then a graceful close. */
  close(reason: string): void {
    if (this.closedLocally !== undefined) return
    this.closedLocally = reason
    this.sendNow({ t: 'bye', reason })
    this.controller.abort()
    this.stream
      .close()
      .catch((err: unknown) => this.stream.abort(err instanceof Error ? err : new Error(reason)))
  }

  /** Ends the session because the peer misbehaved: stream and connection are aborted. */
  abort(err: Error): void {
    this.closedLocally ??= err.message
    this.controller.abort()
    this.stream.abort(err)
    this.connection.abort(err)
  }

  private notePeerVv(vv: VersionVector): void {
    for (const [author, seq] of vv) if (seq > (this.peerVv.get(author) ?? -1)) this.peerVv.set(author, seq)
  }

  private async send(message: ReplicateMessage): Promise<void> {
    await writeFrame(this.stream, encodeReplicateMessage(message), this.signal)
  }

  /** Small control messages: queued on the stream without waiting for drain. */
  private sendNow(message: ReplicateMessage): void {
    if (this.stream.writeStatus !== 'writable') return
    try {
      this.stream.send(encodeFrame(encodeReplicateMessage(message)))
    } catch {
      // The stream is going away; the session ends through its read side.
    }
  }
}
