/**
 * /ivyfs/blob/1: fetch chunks by (id, length) from a peer. The server answers each requested
 * chunk in order with its bytes or `missing`; the client checks that every answer names the chunk
 * it asked for, has its length and hashes to its id (BlobStore.putChunk), or disconnects the peer.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { toHex, type BlobStore, type PublicKey } from '@ivyfs/log'
import type { ChunkRef } from './blob-chunks.js'
import {
  decodeBlobRequest,
  decodeBlobResponse,
  encodeBlobRequest,
  encodeBlobResponse
} from './blob-messages.js'
import {
  BLOB_PROTOCOL,
  BLOB_REQUEST_IDS_MAX,
  BLOB_REQUEST_TIMEOUT_MS,
  BLOB_REQUESTS_PER_STREAM_MAX,
  BLOB_STREAM_IDLE_MS
} from './constants.js'
import {
  BadChunkError,
  PeerError,
  PeerNotMemberError,
  UnexpectedMessageError,
  describeError
} from './errors.js'
import { keyOfPeer } from './identity.js'
import { FrameReader, writeFrame } from './frame.js'
import type { Logger } from './logger.js'

/**
 * Handler for inbound /ivyfs/blob/1 streams: members only; a peer that sends a bad request is
 * disconnected.
 */
export async function serveBlobs(
  stream: Stream,
  connection: Connection,
  context: { blobs: BlobStore; isMember: (key: PublicKey) => boolean; logger: Logger }
): Promise<void> {
  const { blobs, isMember, logger } = context
  const key = keyOfPeer(connection.remotePeer)
  if (key === undefined || !isMember(key)) {
    logger.warn('refused a blob request from a non-member', { peer: connection.remotePeer.toString() })
    stream.abort(new PeerNotMemberError(connection.remotePeer.toString()))
    return
  }
  try {
    await serveBlobStream(stream, blobs, logger)
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err))
    if (err instanceof PeerError) {
      logger.warn('bad blob request; disconnecting the peer', { peer: toHex(key), ...describeError(err) })
      connection.abort(error)
    }
    stream.abort(error)
  }
}

/** Serves chunk requests on one inbound stream until the client closes it or goes idle. */
async function serveBlobStream(stream: Stream, blobs: BlobStore, logger: Logger): Promise<void> {
  const reader = new FrameReader(stream)
  try {
    for (let served = 0; served < BLOB_REQUESTS_PER_STREAM_MAX; served++) {
      const frame = await reader.next(AbortSignal.timeout(BLOB_STREAM_IDLE_MS))
      if (frame === null) break
      const request = decodeBlobRequest(frame)
      for (const ref of request.chunks) {
        const bytes = await readChunk(blobs, ref, logger)
        const response =
          bytes === undefined
            ? { t: 'missing' as const, id: ref.id }
            : { t: 'chunk' as const, id: ref.id, bytes }
        await writeFrame(stream, encodeBlobResponse(response))
      }
    }
    await stream.close()
  } finally {
    reader.detach()
  }
}

async function readChunk(blobs: BlobStore, ref: ChunkRef, logger: Logger): Promise<Uint8Array | undefined> {
  try {
    return await blobs.get(ref.id, ref.length)
  } catch (err) {
    const name = err instanceof Error ? err.name : ''
    if (name === 'BlobMissingError') return undefined
    if (name === 'CorruptBlobError' || name === 'BlobTooLargeError') {
      logger.warn('blob request for a chunk not held as asked', { chunk: toHex(ref.id), error: name })
      return undefined
    }
    throw err
  }
}

/** One client stream: several requests in turn, each answered in full before the next. */
export class BlobClient {
  private readonly reader: FrameReader

  private constructor(
    private readonly stream: Stream,
    private readonly peer: string
  ) {
    this.reader = new FrameReader(stream)
  }

  static async open(connection: Connection, peer: string, signal: AbortSignal): Promise<BlobClient> {
    const stream = await connection.newStream(BLOB_PROTOCOL, { signal, negotiateFully: true })
    return new BlobClient(stream, peer)
  }

  /**
   * Asks for up to BLOB_REQUEST_IDS_MAX chunks; `store` receives each one that arrives. Returns
   * the refs the peer does not have.
   */
  async request(
    refs: ChunkRef[],
    store: (ref: ChunkRef, bytes: Uint8Array) => Promise<void>,
    signal: AbortSignal
  ): Promise<ChunkRef[]> {
    if (refs.length === 0 || refs.length > BLOB_REQUEST_IDS_MAX)
      throw new RangeError('1..64 chunks per request')
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(BLOB_REQUEST_TIMEOUT_MS)])
    await writeFrame(this.stream, encodeBlobRequest({ t: 'get', chunks: refs }), timeout)
    const absent: ChunkRef[] = []
    for (const ref of refs) {
      const frame = await this.reader.next(timeout)
      if (frame === null) throw new UnexpectedMessageError('a blob response', 'end of stream')
      const response = decodeBlobResponse(frame)
      const idHex = toHex(ref.id)
      if (toHex(response.id) !== idHex) throw new UnexpectedMessageError(`chunk ${idHex}`, toHex(response.id))
      if (response.t === 'missing') {
        absent.push(ref)
        continue
      }
      if (response.bytes.byteLength !== ref.length) {
        throw new BadChunkError(idHex, `${response.bytes.byteLength} bytes, expected ${ref.length}`)
      }
      try {
        await store(ref, response.bytes)
      } catch (err) {
        if (err instanceof Error && err.name === 'CorruptBlobError')
          throw new BadChunkError(idHex, err.message)
        throw err
      }
    }
    return absent
  }

  close(): void {
    this.reader.detach()
    this.stream.close().catch(() => this.stream.abort(new Error(`closing blob stream to ${this.peer}`)))
  }

  abort(err: Error): void {
    this.reader.detach()
    this.stream.abort(err)
  }
}
