/**
 * The libp2p node: TCP, Noise, Yamux, identify, ping (which also feeds the connection monitor's
 * round-trip times), optional mDNS. The peer id is the participant key (identity.ts).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import type { Libp2p, PeerDiscovery } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import type { KeyPair } from '@ivyfs/log'
import { DIAL_TIMEOUT_MS, STREAM_WINDOW_BYTES_MAX } from './constants.js'
import { libp2pPrivateKey } from './identity.js'
import './polyfill.js'

export type IvyNode = Libp2p<{ identify: Identify; ping: Ping }>

export interface NodeInit {
  keys: KeyPair
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/4001. */
  listen: string[]
  /** Discover peers on the LAN by multicast DNS. */
  mdns: boolean
  /** mDNS service name, so ivyfs daemons find each other and not every libp2p app. */
  mdnsServiceTag?: string
}

/** mDNS service tag of ivyfs daemons. */
export const MDNS_SERVICE_TAG = '_ivyfs._udp.local'
/** New inbound connections accepted per second per host: reconnect storms after a restart burst. */
const INBOUND_CONNECTIONS_PER_SECOND_MAX = 64

export async function createNode(init: NodeInit): Promise<IvyNode> {
  const peerDiscovery: Array<(components: Parameters<ReturnType<typeof mdns>>[0]) => PeerDiscovery> = []
  if (init.mdns) peerDiscovery.push(mdns({ serviceTag: init.mdnsServiceTag ?? MDNS_SERVICE_TAG }))
  return createLibp2p({
    start: false,
    privateKey: libp2pPrivateKey(init.keys),
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: STREAM_WINDOW_BYTES_MAX } })],
    peerDiscovery,
    connectionManager: {
      dialTimeout: DIAL_TIMEOUT_MS,
      inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND_MAX
    },
    services: { identify: identify(), ping: ping() }
  })
}
