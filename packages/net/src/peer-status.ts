/** What `peers()` reports about each peer, for `ivy peers` and `ivy status`. */
import { fromHex, toHex, type VersionVector } from '@ivyfs/log'
import { keyOfPeer, peerIdOfKey } from './identity.js'
import type { IvyNode } from './node.js'
import type { Session } from './session.js'

export interface PeerStatus {
  /** The peer's participant key, lower-case hex. */
  key: string
  /** Its libp2p peer id (same key, multibase form). */
  peerId: string
  /** A libp2p connection is open. */
  connected: boolean
  /** A replication session is open. */
  replicating: boolean
  /** Round-trip time measured by ping (libp2p's connection monitor), when known. */
  latencyMs: number | undefined
  /** Remote addresses of its open connections. */
  addresses: string[]
  /** Its version vector as it last told us (author hex → highest seq), empty without a session. */
  vv: Record<string, number>
  /** Records we hold that it lacks, by its vector. */
  lag: number
  /** Records it holds that we lack. */
  behind: number
  recordsSent: number
  recordsReceived: number
}

/** Records in `a` beyond `b`. */
export function recordsBeyond(a: VersionVector, b: VersionVector): number {
  let total = 0
  for (const [author, seq] of a) total += Math.max(0, seq - (b.get(author) ?? -1))
  return total
}

export interface PeerStatusSources {
  node: IvyNode
  sessions: ReadonlyMap<string, Session>
  /** Peers the dialer keeps trying (shown as not connected while away). */
  wanted: readonly string[]
  ours: VersionVector
  /** Round trips measured by our own ping, used until the connection monitor has one. */
  latencies: ReadonlyMap<string, number>
}

export function peerStatuses({ node, sessions, wanted, ours, latencies }: PeerStatusSources): PeerStatus[] {
  const statuses = new Map<string, PeerStatus>()
  const entry = (key: string, peerId: string): PeerStatus => {
    let status = statuses.get(key)
    if (status === undefined) {
      status = {
        key,
        peerId,
        connected: false,
        replicating: false,
        latencyMs: undefined,
        addresses: [],
        vv: {},
        lag: 0,
        behind: 0,
        recordsSent: 0,
        recordsReceived: 0
      }
      statuses.set(key, status)
    }
    return status
  }
  for (const connection of node.getConnections()) {
    const key = keyOfPeer(connection.remotePeer)
    if (key === undefined || connection.status !== 'open') continue
    const status = entry(toHex(key), connection.remotePeer.toString())
    status.connected = true
    status.addresses.push(connection.remoteAddr.toString())
    if (connection.rtt !== undefined)
      status.latencyMs = Math.min(status.latencyMs ?? Infinity, connection.rtt)
  }
  for (const [key, latencyMs] of latencies) {
    const status = statuses.get(key)
    if (status?.connected === true) status.latencyMs ??= latencyMs
  }
  for (const session of sessions.values()) {
    const status = entry(session.peer, session.connection.remotePeer.toString())
    status.replicating = true
    status.vv = Object.fromEntries(session.peerVv)
    status.lag = recordsBeyond(ours, session.peerVv)
    status.behind = recordsBeyond(session.peerVv, ours)
    status.recordsSent = session.recordsSent
    status.recordsReceived = session.recordsStored
  }
  for (const key of wanted) if (!statuses.has(key)) entry(key, peerIdOfKey(fromHex(key)).toString())
  return [...statuses.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}
