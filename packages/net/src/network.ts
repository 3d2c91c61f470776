/**
 * The network of one daemon: a libp2p node serving /ivyfs/replicate/1, /ivyfs/blob/1 and
 * /ivyfs/join/1 for one filesystem (one LogStore), dialing its bootstrap peers, mDNS finds and
 * every member it replicated with, and reconnecting with backoff. Membership is the daemon's
 * (its fs view): net asks `isMember` and calls `admit`, and so never depends on packages/fs.
 */
import assert from 'node:assert/strict'
import type { PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { bytesEqual, fromHex, toHex, type KeyPair, type LogStore, type PublicKey } from '@ivyfs/log'
import { serveBlobs } from './blob-protocol.js'
import { BLOB_PROTOCOL, DIAL_TIMEOUT_MS, JOIN_PROTOCOL, REPLICATE_PROTOCOL } from './constants.js'
import { Dialer, type Dialable } from './dialer.js'
import { DialError, NetworkStateError, PeerNotMemberError, describeError } from './errors.js'
import { NetworkEmitter, type NetworkEventMap, type NetworkEventName } from './events.js'
import { keyOfPeer, peerIdOfKey } from './identity.js'
import type { AdmitInfo } from './join.js'
import { silentLogger, type Logger } from './logger.js'
import { Membership, type JoinOptions, type JoinResult, type TicketOptions } from './membership.js'
import { createNode, type IvyNode } from './node.js'
import { peerStatuses, type PeerStatus } from './peer-status.js'
import { Replicator } from './replicator.js'
import type { Ticket } from './ticket.js'

export type { JoinOptions, JoinResult, TicketOptions }

/** Options of createNetwork. */
export interface NetworkInit {
  /** Listen multiaddrs; default /ip4/0.0.0.0/tcp/0. */
  listen?: string[]
  /** Multiaddrs dialed at start and redialed with backoff (with or without /p2p/<id>). */
  bootstrap?: string[]
  /** Discover peers on the LAN by multicast DNS (default false; keep it off in tests). */
  mdns?: boolean
  reconnectDelayMinMs?: number
  reconnectDelayMaxMs?: number
}

/** What the daemon injects. */
export interface NetworkComponents {
  store: LogStore
  /** Defaults to store.keys; must be the same key pair (it is the libp2p identity). */
  keys?: KeyPair
  /** Whether a participant key is a member now (the fs view). Called often: keep it cheap. */
  isMember: (key: PublicKey) => boolean
  /** Appends Member{add} for a joiner that proved a ticket; resolve once isMember(key) holds. */
  admit: (key: PublicKey, info: AdmitInfo) => Promise<void>
  logger?: Logger
}

export type NetworkOptions = NetworkInit & NetworkComponents

export function createNetwork(options: NetworkOptions): Network {
  return new Network(options)
}

export class Network {
  private readonly events = new NetworkEmitter()
  private readonly store: LogStore
  private readonly keys: KeyPair
  private readonly logger: Logger
  private readonly membership: Membership
  private node: IvyNode | undefined
  private replicator: Replicator | undefined
  private dialer: Dialer | undefined
  private state: 'new' | 'starting' | 'started' | 'stopped' = 'new'
  /** Aborted by stop(): ends waits (join) that outlive the network. */
  private readonly lifetime = new AbortController()
  /** Round trips measured when each session opened (until the connection monitor has one). */
  private readonly latencies = new Map<string, number>()

  constructor(private readonly options: NetworkOptions) {
    this.store = options.store
    this.keys = options.keys ?? options.store.keys
    assert(bytesEqual(this.keys.publicKey, this.store.keys.publicKey), 'the network key is the store key')
    this.logger = options.logger ?? silentLogger
    this.membership = new Membership({
      store: this.store,
      keys: this.keys,
      isMember: options.isMember,
      admit: options.admit,
      logger: this.logger,
      events: this.events
    })
  }

  /** This participant's key, hex. */
  get key(): string {
    return toHex(this.keys.publicKey)
  }

  get peerId(): string {
    return peerIdOfKey(this.keys.publicKey).toString()
  }

  on<K extends NetworkEventName>(name: K, listener: (detail: NetworkEventMap[K]) => void): () => void {
    return this.events.on(name, listener)
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new NetworkStateError(this.state, 'new')
    this.state = 'starting'
    try {
      await this.startNode()
    } catch (err) {
      await this.stop()
      throw err
    }
    this.logger.info('network started', { peer: this.key, addresses: this.addresses() })
    for (const address of this.options.bootstrap ?? []) {
      this.dial(address).catch((err: unknown) =>
        this.logger.warn('bootstrap peer not reached yet; retrying', { address, ...describeError(err) })
      )
    }
  }

  private async startNode(): Promise<void> {
    const node = await createNode({
      keys: this.keys,
      listen: this.options.listen ?? ['/ip4/0.0.0.0/tcp/0'],
      mdns: this.options.mdns ?? false
    })
    const replicator = new Replicator({
      store: this.store,
      isMember: (key) => this.membership.isMember(key),
      logger: this.logger,
      events: this.events,
      onSessionEnd: (peer, outcome) => {
        if (outcome.redial) this.dialer?.lost(peer, outcome.misbehaved)
      }
    })
    const dialerInit = {
      delayMinMs: this.options.reconnectDelayMinMs,
      delayMaxMs: this.options.reconnectDelayMaxMs
    }
    this.dialer = new Dialer(
      {
        connect: async (dialable, signal) => this.connect(dialable, signal),
        hasSession: (peer) => replicator.sessions.has(peer),
        peerIdOf: (peer) => peerIdOfKey(fromHex(peer)),
        logger: this.logger
      },
      Object.fromEntries(Object.entries(dialerInit).filter(([, value]) => value !== undefined))
    )
    this.node = node
    this.replicator = replicator
    await node.handle(
      REPLICATE_PROTOCOL,
      async (stream, connection) => replicator.accept(stream, connection),
      { maxInboundStreams: 4 }
    )
    const blobContext = {
      blobs: this.store.blobs,
      isMember: (key: PublicKey) => this.membership.isMember(key),
      logger: this.logger
    }
    await node.handle(
      BLOB_PROTOCOL,
      async (stream, connection) => serveBlobs(stream, connection, blobContext),
      {
        maxInboundStreams: 16
      }
    )
    await node.handle(
      JOIN_PROTOCOL,
      async (stream, connection) => this.membership.serve(stream, connection),
      {
        maxInboundStreams: 2
      }
    )
    node.addEventListener('peer:discovery', (event) => this.discovered(event.detail))
    // libp2p's connection monitor measures round trips every 10 s; measure once right away.
    this.events.on('peer:session', ({ peer }) => this.measureLatency(node, peer))
    await node.start()
    replicator.start()
    this.state = 'started'
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'new') {
      this.state = 'stopped'
      return
    }
    this.state = 'stopped'
    this.lifetime.abort(new NetworkStateError('stopped', 'started'))
    this.dialer?.stop()
    await this.replicator?.stop()
    await this.node?.stop()
    this.logger.info('network stopped', { peer: this.key })
  }

  /** Multiaddrs this node listens on, each ending in /p2p/<peer id>. */
  addresses(): string[] {
    return this.node?.getMultiaddrs().map((address) => address.toString()) ?? []
  }

  peers(): PeerStatus[] {
    if (this.node === undefined || this.replicator === undefined) return []
    return peerStatuses({
      node: this.node,
      sessions: this.replicator.sessions,
      wanted: this.dialer?.wantedPeers() ?? [],
      ours: this.store.versionVector(),
      latencies: this.latencies
    })
  }

  /** Connects to a multiaddr and replicates with it from now on; resolves with its key hex. */
  async dial(address: string): Promise<string> {
    const target = multiaddr(address)
    const id = target.getComponents().findLast((component) => component.name === 'p2p')?.value
    const dialer = this.started().dialer
    if (dialer === undefined) throw new NetworkStateError(this.state, 'started')
    if (id === undefined) return dialer.want(address, [target])
    const peer = this.peerFromId(id)
    return dialer.want(peer ?? address, [target])
  }

  /** Issues a one-time ticket for this filesystem; see ticket.ts for its format. */
  async createTicket(options: TicketOptions = {}): Promise<string> {
    return this.membership.createTicket(this.started().node, options)
  }

  /**
   * Joins with a ticket: proves its secret to the inviter, which appends Member{add} for us; then
   * replicates until our store covers the inviter's version vector at admission. The store must
   * be open on the ticket's fs id (decodeTicket gives it); it may be empty.
   */
  async join(ticket: string | Ticket, options: JoinOptions = {}): Promise<JoinResult> {
    const { node, dialer } = this.started()
    const replicate = (inviter: PublicKey): void => {
      dialer?.want(toHex(inviter), peerIdOfKey(inviter)).catch(() => undefined)
    }
    const signal =
      options.signal === undefined
        ? this.lifetime.signal
        : AbortSignal.any([options.signal, this.lifetime.signal])
    return this.membership.join(node, ticket, replicate, { ...options, signal })
  }

  private started(): { node: IvyNode; replicator: Replicator; dialer: Dialer | undefined } {
    if (this.state !== 'started' || this.node === undefined || this.replicator === undefined) {
      throw new NetworkStateError(this.state, 'started')
    }
    return { node: this.node, replicator: this.replicator, dialer: this.dialer }
  }

  private measureLatency(node: IvyNode, peer: string): void {
    node.services.ping
      .ping(peerIdOfKey(fromHex(peer)), {
        signal: AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)])
      })
      .then(
        (latencyMs) => this.latencies.set(peer, latencyMs),
        (err: unknown) => this.logger.debug('ping failed', { peer, ...describeError(err) })
      )
  }

  private peerFromId(id: string): string | undefined {
    try {
      const key = keyOfPeer(peerIdFromString(id))
      return key === undefined ? undefined : toHex(key)
    } catch {
      return undefined
    }
  }

  private async connect(dialable: Dialable, signal: AbortSignal): Promise<string> {
    const { node, replicator } = this.started()
    const connection = await node.dial(dialable, { signal })
    const key = keyOfPeer(connection.remotePeer)
    if (key === undefined)
      throw new DialError(connection.remoteAddr.toString(), 'peer has no Ed25519 identity')
    const peer = toHex(key)
    if (!this.membership.isMember(key)) throw new PeerNotMemberError(peer)
    await replicator.open(connection, signal)
    return peer
  }

  private discovered(info: PeerInfo): void {
    // libp2p also reports peers it learns through identify on an open connection: those
    // already have (or are opening) a session through that connection.
    const key = keyOfPeer(info.id)
    if (
      key === undefined ||
      !this.membership.isMember(key) ||
      (this.node?.getConnections(info.id).length ?? 0) > 0
    )
      return
    this.logger.debug('discovered a member on the LAN', { peer: toHex(key) })
    this.dialer
      ?.want(toHex(key), info.multiaddrs.length > 0 ? info.multiaddrs : info.id)
      .catch(() => undefined)
  }
}
