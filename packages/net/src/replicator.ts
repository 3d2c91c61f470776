/**
 * All replication sessions of one node: admits inbound sessions from members only, opens
 * outbound ones, keeps one session per peer (duplicates from simultaneous dials are resolved the
 * same way on both sides), fans new records out to every session, coalesces Have messages, and
 * owns the pending pool of records waiting for a dependency. Our own records go out at once;
 * others' are relayed RELAY_DELAY_MS later, to the peers that by then still lack them.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { fromHex, toHex, type LogStore, type SignedRecord } from '@ivyfs/log'
import { BlobFetcher, type BlobSource } from './blob-fetcher.js'
import { HAVE_DELAY_MS, RELAY_DELAY_MS, RELAY_RECORDS_MAX, REPLICATE_PROTOCOL } from './constants.js'
import { BadRecordError, PeerError, SessionRefusedError, describeError } from './errors.js'
import type { NetworkEmitter } from './events.js'
import { keyOfPeer } from './identity.js'
import { classifyIngestError } from './ingest-outcome.js'
import { withFields, type Logger } from './logger.js'
import { PendingPool, type PendingEntry } from './pending-pool.js'
import { Session } from './session.js'

export interface ReplicatorComponents {
  store: LogStore
  /** Membership as the daemon's view (plus join trust) sees it now. */
  isMember: (key: Uint8Array) => boolean
  logger: Logger
  events: NetworkEmitter
  /** A session ended; `redial` is false when another session replaced it or we are stopping. */
  onSessionEnd: (peer: string, outcome: { redial: boolean; misbehaved: boolean }) => void
}

export class Replicator {
  readonly sessions = new Map<string, Session>()
  readonly fetcher: BlobFetcher
  private readonly pool = new PendingPool()
  private readonly running = new Set<Promise<void>>()
  private readonly localKey: string
  private unsubscribe: (() => void) | undefined
  private haveTimer: NodeJS.Timeout | undefined
  private relayTimer: NodeJS.Timeout | undefined
  /** Others' records stored since the last relay, oldest first (bounded: then a catch-up). */
  private relaying: SignedRecord[] = []
  private relayOverflow = false
  private stopping = false

  constructor(private readonly components: ReplicatorComponents) {
    this.localKey = toHex(components.store.keys.publicKey)
    this.fetcher = new BlobFetcher({
      blobs: components.store.blobs,
      sources: () => this.sources(),
      onPeerError: (peer, err) => this.punish(peer, err),
      logger: components.logger
    })
  }

  start(): void {
    this.stopping = false
    this.unsubscribe = this.components.store.durable.onRecord((record) => this.onStored(record))
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.unsubscribe?.()
    clearTimeout(this.haveTimer)
    clearTimeout(this.relayTimer)
    this.relaying = []
    for (const session of this.sessions.values()) session.close('node stopping')
    await Promise.allSettled([...this.running])
    this.sessions.clear()
    this.pool.clear()
  }

  /** Handler for inbound /ivyfs/replicate/1 streams. */
  async accept(stream: Stream, connection: Connection): Promise<void> {
    const key = keyOfPeer(connection.remotePeer)
    const peer = key === undefined ? connection.remotePeer.toString() : toHex(key)
    if (key === undefined || !this.components.isMember(key) || this.stopping) {
      const reason = this.stopping ? 'node stopping' : 'not a member of this filesystem'
      if (!this.stopping) {
        this.components.logger.warn('refused replication from a non-member', {
          peer,
          remote: connection.remoteAddr.toString()
        })
        this.components.events.emit('peer:refused', { peer, reason })
      }
      new Session(this.sessionComponents(peer), { stream, connection, peer, initiator: peer }).close(reason)
      return
    }
    await this.establish(
      new Session(this.sessionComponents(peer), { stream, connection, peer, initiator: peer })
    ).catch(() => undefined)
  }

  /** Opens a session over an existing connection; resolves once the handshake is done. */
  async open(connection: Connection, signal: AbortSignal): Promise<void> {
    const key = keyOfPeer(connection.remotePeer)
    if (key === undefined) throw new Error('peer has no Ed25519 identity')
    const peer = toHex(key)
    if (this.sessions.has(peer)) return
    const stream = await connection.newStream(REPLICATE_PROTOCOL, { signal, negotiateFully: true })
    await this.establish(
      new Session(this.sessionComponents(peer), { stream, connection, peer, initiator: this.localKey })
    )
  }

  /** Disconnects a peer that broke the protocol (logged once, with the reason). */
  punish(peer: string, err: PeerError, session = this.sessions.get(peer)): void {
    this.components.logger.warn('peer broke the protocol; disconnecting it', {
      peer,
      ...describeError(err),
      data: err.data
    })
    this.components.events.emit('peer:misbehaved', { peer, error: err.name, message: err.message })
    session?.abort(err)
  }

  private sessionComponents(peer: string): ConstructorParameters<typeof Session>[0] {
    return {
      store: this.components.store,
      fetcher: this.fetcher,
      park: (entry) => this.park(entry),
      logger: withFields(this.components.logger, { peer })
    }
  }

  private async establish(session: Session): Promise<void> {
    const { logger, events } = this.components
    try {
      await session.handshake()
    } catch (err) {
      this.ended(session, err, false)
      throw err
    }
    if (!this.register(session)) return
    logger.info('replicating with peer', { peer: session.peer, theirRecords: sum(session.peerVv) })
    events.emit('peer:session', {
      peer: session.peer,
      initiator: session.initiator === this.localKey ? 'local' : 'remote'
    })
    const run = session.run().then(
      () => this.ended(session, undefined, true),
      (err: unknown) => this.ended(session, err, true)
    )
    this.running.add(run)
    void run.finally(() => this.running.delete(run))
  }

  /** Keeps one session per peer; both sides prefer the same one (see docs/PROTOCOLS.md). */
  private register(session: Session): boolean {
    const existing = this.sessions.get(session.peer)
    if (existing !== undefined && existing !== session && !existing.signal.aborted) {
      const lowest = this.localKey < session.peer ? this.localKey : session.peer
      const preferNew = existing.initiator === session.initiator || session.initiator === lowest
      const loser = preferNew ? existing : session
      if (!preferNew) {
        loser.close('duplicate session')
        return false
      }
      this.sessions.set(session.peer, session)
      loser.close('replaced by a newer session')
      return true
    }
    this.sessions.set(session.peer, session)
    return true
  }

  private ended(session: Session, err: unknown, wasOpen: boolean): void {
    const { logger, events } = this.components
    const current = this.sessions.get(session.peer) === session
    if (current) this.sessions.delete(session.peer)
    const misbehaved = err instanceof PeerError && session.closedLocally === undefined
    if (misbehaved) this.punish(session.peer, err, session)
    else if (err instanceof SessionRefusedError) {
      logger.warn('peer refused to replicate with us', { peer: session.peer, reason: err.data['reason'] })
      events.emit('peer:refused', { peer: session.peer, reason: String(err.data['reason']) })
    } else if (err !== undefined && session.closedLocally === undefined) {
      logger.info('replication session ended', { peer: session.peer, ...describeError(err) })
    }
    const reason = session.endReason ?? (err === undefined ? 'stream ended' : describeError(err).message)
    session.close(err === undefined ? 'session over' : 'session error')
    if (wasOpen) events.emit('peer:closed', { peer: session.peer, reason })
    if (wasOpen && !current) return
    const redial = !this.stopping && !this.sessions.has(session.peer)
    this.components.onSessionEnd(session.peer, { redial, misbehaved })
  }

  private sources(): BlobSource[] {
    return [...this.sessions.values()].map((session) => ({
      peer: session.peer,
      connection: session.connection
    }))
  }

  private onStored(record: SignedRecord): void {
    if (toHex(record.body.author) === this.localKey)
      for (const session of this.sessions.values()) session.offer(record)
    else this.relayLater(record)
    for (const entry of this.pool.takeWaitingFor(toHex(record.body.author), record.body.seq))
      this.retry(entry)
    if (this.haveTimer === undefined) {
      this.haveTimer = setTimeout(() => this.flushHave(), HAVE_DELAY_MS)
      this.haveTimer.unref()
    }
  }

  private relayLater(record: SignedRecord): void {
    if (this.relaying.length < RELAY_RECORDS_MAX) this.relaying.push(record)
    else this.relayOverflow = true
    if (this.relayTimer !== undefined) return
    this.relayTimer = setTimeout(() => this.relay(), RELAY_DELAY_MS)
    this.relayTimer.unref()
  }

  /** Offers the waiting records: each session skips what its peer holds or was sent. */
  private relay(): void {
    this.relayTimer = undefined
    const records = this.relaying
    const overflow = this.relayOverflow
    this.relaying = []
    this.relayOverflow = false
    if (this.stopping) return
    for (const session of this.sessions.values()) {
      if (overflow) session.catchUp()
      else for (const record of records) session.offer(record)
    }
  }

  private flushHave(): void {
    this.haveTimer = undefined
    if (this.stopping) return
    const vv = this.components.store.durable.versionVector()
    for (const session of this.sessions.values()) {
      if (!this.components.isMember(fromHex(session.peer))) {
        this.components.logger.warn('peer is no longer a member; closing its session', { peer: session.peer })
        session.close('no longer a member of this filesystem')
        continue
      }
      session.sendHave(vv)
    }
  }

  private park(entry: PendingEntry): void {
    const split = entry.waitFor.lastIndexOf(':')
    const author = entry.waitFor.slice(0, split)
    const seq = Number(entry.waitFor.slice(split + 1))
    if (this.components.store.length(fromHex(author)) > seq) {
      this.retry(entry)
      return
    }
    this.components.logger.debug('record waits for a dependency', {
      record: entry.key,
      waitFor: entry.waitFor
    })
    for (const evicted of this.pool.add(entry)) {
      this.components.logger.debug('pending pool full; asking the sender to resend', { peer: evicted.from })
      this.sessions.get(evicted.from)?.requestResync()
    }
  }

  private retry(entry: PendingEntry): void {
    const { store, logger } = this.components
    store.ingest(entry.bytes).then(
      () => undefined,
      (err: unknown) => {
        if (this.stopping) return
        const outcome = classifyIngestError(err)
        if (outcome.kind === 'wait') this.park({ ...entry, waitFor: `${outcome.author}:${outcome.seq}` })
        else if (outcome.kind === 'violation')
          this.punish(entry.from, new BadRecordError(outcome.reason, describeError(err).message))
        else
          logger.warn('pending record refused by the store', {
            record: entry.key,
            reason: describeError(err).name
          })
      }
    )
  }
}

function sum(vv: Map<string, number>): number {
  let total = 0
  for (const seq of vv.values()) total += seq + 1
  return total
}
