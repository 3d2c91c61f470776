/**
 * Membership as the network sees it: the daemon's `isMember` (its fs view), plus the inviter we
 * joined through, trusted until our own view counts us as a member (an empty store knows no
 * members yet). Also the ticket API: issuing tickets (inviter), redeeming them over
 * /ivyfs/join/1 (inviter), and joining with one (joiner). See docs/PROTOCOLS.md §5.
 */
import type { Connection, Stream } from '@libp2p/interface'
import {
  bytesEqual,
  toHex,
  type KeyPair,
  type LogStore,
  type PublicKey,
  type VersionVector
} from '@ivyfs/log'
import {
  JOIN_TIMEOUT_MS_DEFAULT,
  TICKET_ADDRESSES_MAX,
  TICKET_SECRET_BYTES,
  TICKET_TTL_MS_DEFAULT
} from './constants.js'
import { InvalidTicketError, JoinTimeoutError, TicketExpiredError } from './errors.js'
import type { NetworkEmitter } from './events.js'
import { requestJoin, serveJoin, type AdmitInfo } from './join.js'
import type { Logger } from './logger.js'
import type { IvyNode } from './node.js'
import { TicketBook } from './ticket-book.js'
import { decodeTicket, encodeTicket, type Ticket } from './ticket.js'
import { waitForVersionVector } from './wait.js'

export interface JoinOptions {
  timeoutMs?: number
  signal?: AbortSignal
}

export interface JoinResult {
  /** Key hex of the member that admitted us. */
  inviter: string
  /** The inviter's version vector at admission; our store now covers it. */
  vv: VersionVector
}

export interface TicketOptions {
  ttlMs?: number
  /** Addresses to put in the ticket (default: this node's listen addresses). */
  addresses?: string[]
}

export interface MembershipComponents {
  store: LogStore
  keys: KeyPair
  isMember: (key: PublicKey) => boolean
  admit: (key: PublicKey, info: AdmitInfo) => Promise<void>
  logger: Logger
  events: NetworkEmitter
}

/** The multiaddr protocol code of /p2p/<peer id>. */
const P2P_CODE = 421

export class Membership {
  private readonly book: TicketBook
  /** Inviters we joined through. */
  private readonly trusted = new Set<string>()

  constructor(private readonly components: MembershipComponents) {
    this.book = new TicketBook(components.store.sublevel('net-tickets'))
  }

  isMember(key: PublicKey): boolean {
    const { isMember, keys } = this.components
    if (isMember(key)) return true
    return this.trusted.has(toHex(key)) && !isMember(keys.publicKey)
  }

  /** Issues a one-time ticket for this filesystem naming this node's addresses. */
  async createTicket(node: IvyNode, options: TicketOptions): Promise<string> {
    const { store, keys } = this.components
    const ttlMs = options.ttlMs ?? TICKET_TTL_MS_DEFAULT
    const own = node.getMultiaddrs().map((address) => address.decapsulateCode(P2P_CODE).toString())
    const addresses = [...new Set(options.addresses ?? own)].slice(0, TICKET_ADDRESSES_MAX)
    const ticket = { fsId: store.fsId, inviter: keys.publicKey, addresses }
    // Encoding refuses what could never be redeemed (a bad address, say): try it before the book
    // stores anything, with a placeholder secret of the real size.
    encodeTicket({ ...ticket, secret: new Uint8Array(TICKET_SECRET_BYTES), expiresMs: Date.now() + ttlMs })
    const { secret, expiresMs } = await this.book.issue(ttlMs, Date.now())
    return encodeTicket({ ...ticket, secret, expiresMs })
  }

  /** Inviter side of /ivyfs/join/1. */
  async serve(stream: Stream, connection: Connection): Promise<void> {
    const { store, admit, logger, events } = this.components
    await serveJoin(stream, connection, { store, book: this.book, admit, logger, events })
  }

  /**
   * Joiner side: proves the ticket's secret, then waits until `replicate` (a session with the
   * inviter, retried by the dialer) has brought our store up to the inviter's vector.
   */
  async join(
    node: IvyNode,
    ticketOrText: string | Ticket,
    replicate: (inviter: PublicKey) => void,
    options: JoinOptions
  ): Promise<JoinResult> {
    const { store, keys, logger } = this.components
    const ticket = typeof ticketOrText === 'string' ? decodeTicket(ticketOrText) : ticketOrText
    if (!bytesEqual(ticket.fsId, store.fsId))
      throw new InvalidTicketError('the ticket is for another filesystem')
    if (ticket.expiresMs <= Date.now()) throw new TicketExpiredError(ticket.expiresMs)
    const timeoutMs = options.timeoutMs ?? JOIN_TIMEOUT_MS_DEFAULT
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
    const inviter = toHex(ticket.inviter)
    this.trusted.add(inviter)
    let stage = 'admission'
    try {
      const vv = await requestJoin(node, keys, ticket, signal)
      logger.info('admitted by the inviter; catching up', { inviter })
      stage = 'catch-up'
      replicate(ticket.inviter)
      await waitForVersionVector(store, vv, signal)
      return { inviter, vv }
    } catch (err) {
      if (stage === 'admission') this.trusted.delete(inviter)
      if (timeout.aborted) throw new JoinTimeoutError(timeoutMs, stage)
      throw err
    }
  }
}
