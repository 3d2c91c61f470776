/**
 * @ivyfs/net — the network of an ivyfs daemon: a libp2p node (TCP, Noise, Yamux, identify,
 * ping, optional mDNS) whose peer id is the participant key, the replication protocol
 * /ivyfs/replicate/1, the blob protocol /ivyfs/blob/1 and the membership handshake
 * /ivyfs/join/1. Wire formats and limits: docs/PROTOCOLS.md. Imports only @ivyfs/log;
 * membership decisions come from the daemon through `isMember` and `admit`.
 *
 *   const network = createNetwork({ store, isMember, admit, listen, bootstrap, mdns, logger })
 *   await network.start()
 *   const ticket = await network.createTicket({ ttlMs })      // inviter
 *   await network.join(ticket)                                // joiner (store opened on decodeTicket(ticket).fsId)
 */
import './polyfill.js'

export {
  createNetwork,
  Network,
  type NetworkInit,
  type NetworkComponents,
  type NetworkOptions,
  type JoinOptions,
  type JoinResult,
  type TicketOptions
} from './network.js'
export type { AdmitInfo } from './join.js'
export type { PeerStatus } from './peer-status.js'
export type { NetworkEventMap, NetworkEventName } from './events.js'
export { type Logger, type LogFields, silentLogger } from './logger.js'
export { decodeTicket, encodeTicket, TICKET_PREFIX, TICKET_TTL_MS_MAX, type Ticket } from './ticket.js'
export { libp2pPrivateKey, peerIdOfKey, keyOfPeer } from './identity.js'
export { MDNS_SERVICE_TAG } from './node.js'
export * from './constants.js'
export * from './errors.js'

// Wire-level building blocks: for tools and tests that speak the protocols directly.
export { encodeFrame, writeFrame, FrameReader, type FrameReaderInit } from './frame.js'
export {
  encodeReplicateMessage,
  decodeReplicateMessage,
  type ReplicateMessage,
  type HelloMessage,
  type HaveMessage,
  type RecordMessage,
  type ChunkMessage,
  type ByeMessage
} from './replicate-messages.js'
export {
  encodeBlobRequest,
  decodeBlobRequest,
  encodeBlobResponse,
  decodeBlobResponse,
  type BlobRequest,
  type BlobResponse
} from './blob-messages.js'
export {
  encodeJoinRequest,
  decodeJoinRequest,
  encodeJoinResponse,
  decodeJoinResponse,
  JOIN_REFUSALS,
  type JoinRefusal,
  type JoinRequest,
  type JoinResponse
} from './join-messages.js'
export {
  manifestBytesLength,
  blobChunkRefs,
  missingChunkRefs,
  type ChunkRef,
  type BlobRef
} from './blob-chunks.js'
export { createNode, type IvyNode, type NodeInit } from './node.js'
