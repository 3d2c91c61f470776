/**
 * A raw libp2p peer that speaks ivyfs's protocols by hand, for attacking a real daemon process
 * (the approach of packages/net/test/hostile.test.ts, dialled at a daemon on 127.0.0.1). It sends
 * whatever frames a test gives it and collects what the daemon answers.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { KeyPair } from '@ivyfs/log'
import {
  REPLICATE_PROTOCOL,
  REPLICATE_WIRE_VERSION,
  createNode,
  decodeReplicateMessage,
  encodeReplicateMessage,
  peerIdOfKey,
  writeFrame,
  type IvyNode,
  type ReplicateMessage
} from '@ivyfs/net'
import { fromHex } from '@ivyfs/log'

export interface RawSession {
  stream: Stream
  connection: Connection
  /** Every message the daemon sent on this stream, decoded. */
  received: ReplicateMessage[]
  /** Resolves when the daemon's side ends (cleanly or not), with the reason. */
  ended: Promise<string>
  /** Whether the connection this session runs on is still open. */
  open(): boolean
  send(payload: Uint8Array): Promise<void>
  sendMessage(message: ReplicateMessage): Promise<void>
  /** Raw bytes on the stream, no framing added. */
  sendRaw(bytes: Uint8Array): void
}

/**
 * Reads length-prefixed frames with the stream's own async iterator. (Not FrameReader: a reader
 * attached after the remote closed its side loses the frames already buffered; see
 * reliability-fuzz-wire.test.ts.)
 */
export async function readFrames(stream: Stream, onFrame: (payload: Uint8Array) => void): Promise<string> {
  let buffer = new Uint8Array(0)
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      const joined = new Uint8Array(buffer.byteLength + bytes.byteLength)
      joined.set(buffer)
      joined.set(bytes, buffer.byteLength)
      buffer = joined
      while (buffer.byteLength >= 4) {
        const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0)
        if (buffer.byteLength < 4 + length) break
        onFrame(buffer.slice(4, 4 + length))
        buffer = buffer.slice(4 + length)
      }
    }
    return buffer.byteLength > 0
      ? `stream ended inside a frame (${buffer.byteLength} bytes left)`
      : 'stream ended'
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`
  }
}

export class HostilePeer {
  private constructor(
    readonly keys: KeyPair,
    readonly node: IvyNode
  ) {}

  /** A peer that dials out only (the daemon cannot dial it back, so every connection is ours). */
  static async start(keys: KeyPair): Promise<HostilePeer> {
    const node = await createNode({ keys, listen: [], mdns: false })
    await node.start()
    return new HostilePeer(keys, node)
  }

  /** `address` with the daemon's /p2p part, so Noise proves we reached that key. */
  static target(address: string, daemonKeyHex: string): string {
    return address.includes('/p2p/')
      ? address
      : `${address}/p2p/${peerIdOfKey(fromHex(daemonKeyHex)).toString()}`
  }

  connected(daemonKeyHex: string): boolean {
    return this.node
      .getConnections(peerIdOfKey(fromHex(daemonKeyHex)))
      .some((c: Connection) => c.status === 'open')
  }

  async hangUp(daemonKeyHex: string): Promise<void> {
    await this.node.hangUp(peerIdOfKey(fromHex(daemonKeyHex)))
  }

  async dial(target: string, protocol: string): Promise<{ connection: Connection; stream: Stream }> {
    const connection = await this.node.dial(multiaddr(target))
    const stream = await connection.newStream(protocol, { negotiateFully: true })
    return { connection, stream }
  }

  /**
   * Opens /ivyfs/replicate/1; sends `hello` (a correct one for fsId unless given) and starts
   * collecting what the daemon sends.
   */
  async replicate(target: string, fsId: Uint8Array, hello?: Uint8Array): Promise<RawSession> {
    const { connection, stream } = await this.dial(target, REPLICATE_PROTOCOL)
    const received: ReplicateMessage[] = []
    let undecodable = 0
    const ended = readFrames(stream, (frame) => {
      try {
        received.push(decodeReplicateMessage(frame))
      } catch {
        undecodable++
      }
    }).then((reason) =>
      undecodable > 0 ? `${reason}; the daemon sent ${undecodable} undecodable frames` : reason
    )
    const session: RawSession = {
      stream,
      connection,
      received,
      ended,
      open: () => connection.status === 'open',
      // The daemon may cut us off in the middle of a send: that is an outcome, not a test error.
      send: async (payload) => {
        if (stream.writeStatus !== 'writable') return
        await writeFrame(stream, payload).catch((err: unknown) => {
          if (connection.status === 'open' && stream.writeStatus === 'writable') throw err
        })
      },
      sendMessage: async (message) => await session.send(encodeReplicateMessage(message)),
      sendRaw: (bytes) => {
        if (stream.writeStatus !== 'writable') return
        try {
          stream.send(bytes)
        } catch (err) {
          if (connection.status === 'open' && stream.writeStatus === 'writable') throw err
        }
      }
    }
    await session.send(
      hello ?? encodeReplicateMessage({ t: 'hello', version: REPLICATE_WIRE_VERSION, fsId, vv: new Map() })
    )
    return session
  }

  async stop(): Promise<void> {
    await this.node.stop()
  }
}
