/**
 * Makes sure the blobs a record references are held before the record is ingested, so a held
 * record always has its data. Missing chunks are fetched over /ivyfs/blob/1 from the peer that
 * sent the record first, then from every other replicating peer. Fetches of one blob are shared
 * between sessions that need it at the same time.
 */
import type { Connection } from '@libp2p/interface'
import { toHex, type BlobStore } from '@ivyfs/log'
import { missingChunkRefs, type BlobRef, type ChunkRef } from './blob-chunks.js'
import { BlobClient } from './blob-protocol.js'
import { BLOB_REQUEST_IDS_MAX } from './constants.js'
import { BlobUnavailableError, PeerError, describeError } from './errors.js'
import type { Logger } from './logger.js'

export interface BlobSource {
  peer: string
  connection: Connection
}

export interface BlobFetcherComponents {
  blobs: BlobStore
  /** Replicating peers that may hold blobs, in any order. */
  sources: () => BlobSource[]
  /** A source broke the protocol (its connection is aborted right after): log and end its session. */
  onPeerError: (peer: string, err: PeerError) => void
  logger: Logger
}

/** Rounds with one peer: the manifest, then its chunks, then one retry for stragglers. */
const ROUNDS_PER_PEER = 3

export class BlobFetcher {
  private readonly inflight = new Map<string, Promise<void>>()

  constructor(private readonly components: BlobFetcherComponents) {}

  /** Resolves once every blob is held; BlobUnavailableError when no peer could provide one. */
  async ensure(refs: readonly BlobRef[], preferred: string, signal: AbortSignal): Promise<void> {
    for (const ref of refs) await this.ensureOne(ref, preferred, signal)
  }

  private async ensureOne(ref: BlobRef, preferred: string, signal: AbortSignal): Promise<void> {
    const hex = toHex(ref.id)
    for (let running = this.inflight.get(hex); running !== undefined; running = this.inflight.get(hex)) {
      await running.catch(() => undefined)
    }
    if ((await missingChunkRefs(this.components.blobs, ref)).length === 0) return
    const fetching = this.fetch(ref, preferred, signal)
    this.inflight.set(hex, fetching)
    try {
      await fetching
    } finally {
      this.inflight.delete(hex)
    }
  }

  private async fetch(ref: BlobRef, preferred: string, signal: AbortSignal): Promise<void> {
    const { blobs, logger } = this.components
    const sources = this.components
      .sources()
      .sort((a, b) => Number(b.peer === preferred) - Number(a.peer === preferred))
    let missing = await missingChunkRefs(blobs, ref)
    for (const source of sources) {
      if (missing.length === 0) break
      signal.throwIfAborted()
      try {
        missing = await this.fetchFrom(source, ref, missing, signal)
      } catch (err) {
        if (err instanceof PeerError) {
          this.components.onPeerError(source.peer, err)
          source.connection.abort(err)
        } else if (!signal.aborted)
          logger.debug('blob fetch from peer failed', { peer: source.peer, ...describeError(err) })
        signal.throwIfAborted()
        missing = await missingChunkRefs(blobs, ref)
      }
    }
    if (missing.length > 0) throw new BlobUnavailableError(toHex(missing[0]!.id), sources.length)
  }

  private async fetchFrom(
    source: BlobSource,
    ref: BlobRef,
    first: ChunkRef[],
    signal: AbortSignal
  ): Promise<ChunkRef[]> {
    const { blobs } = this.components
    const client = await BlobClient.open(source.connection, source.peer, signal)
    let missing = first
    try {
      for (let round = 0; round < ROUNDS_PER_PEER && missing.length > 0; round++) {
        let received = 0
        for (let start = 0; start < missing.length; start += BLOB_REQUEST_IDS_MAX) {
          const batch = missing.slice(start, start + BLOB_REQUEST_IDS_MAX)
          const absent = await client.request(
            batch,
            (chunk, bytes) => blobs.putChunk(chunk.id, bytes),
            signal
          )
          received += batch.length - absent.length
        }
        missing = await missingChunkRefs(blobs, ref)
        if (received === 0) break
      }
      client.close()
      return missing
    } catch (err) {
      client.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }
}
