/**
 * /ivyfs/join/1, both sides. The joiner dials the inviter named by the ticket (Noise proves the
 * inviter's key), sends {fs id, ticket id, HMAC proof of the secret}; the inviter redeems the
 * ticket (one-time, unexpired, proof valid), calls the daemon's `admit` (which appends
 * Member{add} for the joiner), and answers welcome with its version vector, or refused with a
 * reason. One request per stream, bounded in size and time.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import {
  bytesEqual,
  toHex,
  type KeyPair,
  type LogStore,
  type PublicKey,
  type VersionVector
} from '@ivyfs/log'
import { HANDSHAKE_TIMEOUT_MS, JOIN_PROTOCOL } from './constants.js'
import { JoinRefusedError, PeerError, UnexpectedMessageError, describeError } from './errors.js'
import type { NetworkEmitter } from './events.js'
import { FrameReader, writeFrame } from './frame.js'
import { keyOfPeer, peerIdOfKey } from './identity.js'
import {
  decodeJoinRequest,
  decodeJoinResponse,
  encodeJoinRequest,
  encodeJoinResponse,
  type JoinResponse
} from './join-messages.js'
import type { Logger } from './logger.js'
import type { IvyNode } from './node.js'
import type { TicketBook } from './ticket-book.js'
import { joinProof, ticketId, type Ticket } from './ticket.js'

/** Join messages are tiny; nothing bigger is read on this protocol. */
const JOIN_FRAME_BYTES_MAX = 4096

/** What `admit` learns about the ticket that let the joiner in. */
export interface AdmitInfo {
  /** Hex id of the redeemed ticket (names it in logs without revealing the secret). */
  ticketId: string
}

export interface JoinServerComponents {
  store: LogStore
  book: TicketBook
  admit: (key: PublicKey, info: AdmitInfo) => Promise<void>
  logger: Logger
  events: NetworkEmitter
}

export async function serveJoin(
  stream: Stream,
  connection: Connection,
  components: JoinServerComponents
): Promise<void> {
  const { store, book, logger } = components
  const joiner = keyOfPeer(connection.remotePeer)
  const reader = new FrameReader(stream, { frameBytesMax: JOIN_FRAME_BYTES_MAX })
  try {
    const frame = await reader.next(AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS))
    if (frame === null || joiner === undefined) {
      await stream.close()
      return
    }
    const request = decodeJoinRequest(frame)
    const peer = toHex(joiner)
    let answer: JoinResponse
    if (!bytesEqual(request.fsId, store.fsId)) answer = { t: 'refused', reason: 'wrong-fs' }
    else {
      const id = toHex(request.ticketId)
      try {
        const outcome = await book.redeem({
          ticketId: request.ticketId,
          proof: request.proof,
          joiner,
          expectedProof: (secret) => joinProof(secret, store.fsId, store.keys.publicKey, joiner),
          admit: async () => components.admit(joiner, { ticketId: id }),
          nowMs: Date.now()
        })
        answer =
          outcome === 'welcome'
            ? { t: 'welcome', vv: store.durable.versionVector() }
            : { t: 'refused', reason: outcome }
      } catch (err) {
        logger.error('admitting a joiner failed', { peer, ...describeError(err) })
        answer = { t: 'refused', reason: 'admit-failed' }
      }
    }
    if (answer.t === 'welcome') {
      logger.info('admitted a new member with a ticket', { peer })
      components.events.emit('peer:admitted', { peer })
    } else {
      logger.warn('refused a join', { peer, reason: answer.reason, remote: connection.remoteAddr.toString() })
      components.events.emit('peer:refused', { peer, reason: answer.reason })
    }
    await writeFrame(stream, encodeJoinResponse(answer))
    await stream.close()
  } catch (err) {
    if (err instanceof PeerError) logger.warn('bad join request; stream aborted', { ...describeError(err) })
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  } finally {
    reader.detach()
  }
}

/** The joiner's side: proves the ticket's secret; resolves with the inviter's version vector. */
export async function requestJoin(
  node: IvyNode,
  keys: KeyPair,
  ticket: Ticket,
  signal: AbortSignal
): Promise<VersionVector> {
  const inviter = peerIdOfKey(ticket.inviter)
  const addresses = ticket.addresses.map((address) =>
    multiaddr(address).encapsulate(`/p2p/${inviter.toString()}`)
  )
  const stream = await node.dialProtocol(addresses, JOIN_PROTOCOL, { signal, negotiateFully: true })
  const reader = new FrameReader(stream, { frameBytesMax: JOIN_FRAME_BYTES_MAX })
  try {
    const proof = joinProof(ticket.secret, ticket.fsId, ticket.inviter, keys.publicKey)
    await writeFrame(
      stream,
      encodeJoinRequest({ t: 'join', fsId: ticket.fsId, ticketId: ticketId(ticket.secret), proof }),
      signal
    )
    const frame = await reader.next(AbortSignal.any([signal, AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS)]))
    if (frame === null) throw new UnexpectedMessageError('a join answer', 'end of stream')
    const answer = decodeJoinResponse(frame)
    await stream.close().catch(() => undefined)
    if (answer.t === 'refused') throw new JoinRefusedError(answer.reason)
    return answer.vv
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    reader.detach()
  }
}
