/**
 * Messages of /ivyfs/blob/1 (docs/PROTOCOLS.md): the client sends `get` with up to
 * BLOB_REQUEST_IDS_MAX chunks, each [id, byte length]; the server answers each in order with
 * `chunk` (the bytes) or `missing`, then waits for the next request. Chunks are verified by hash
 * (and length) on arrival.
 *   get      {t, chunks: [[id, length], …]}
 *   chunk    {t, id, b}
 *   missing  {t, id}
 */
import { BLOB_CHUNK_BYTES, HASH_BYTES, type Hash } from '@ivyfs/log'
import type { ChunkRef } from './blob-chunks.js'
import { decodeCbor, encodeCbor } from './cbor.js'
import { BLOB_PROTOCOL, BLOB_REQUEST_IDS_MAX } from './constants.js'

export interface BlobRequest {
  t: 'get'
  chunks: ChunkRef[]
}
export type BlobResponse = { t: 'chunk'; id: Hash; bytes: Uint8Array } | { t: 'missing'; id: Hash }

export function encodeBlobRequest(request: BlobRequest): Uint8Array {
  return encodeCbor({ t: 'get', chunks: request.chunks.map((chunk) => [chunk.id, chunk.length]) })
}

export function decodeBlobRequest(bytes: Uint8Array): BlobRequest {
  const fields = decodeCbor(BLOB_PROTOCOL, bytes)
  if (fields.string('t', 16) !== 'get') fields.fail('t', 'expected get')
  const chunks = fields.array('chunks', BLOB_REQUEST_IDS_MAX).map((item, i): ChunkRef => {
    const [id, length] =
      Array.isArray(item) && item.length === 2 ? item : fields.fail(`chunks[${i}]`, 'not a pair')
    if (!(id instanceof Uint8Array) || id.byteLength !== HASH_BYTES) fields.fail(`chunks[${i}]`, 'bad id')
    if (!Number.isSafeInteger(length) || length < 1 || length > BLOB_CHUNK_BYTES)
      fields.fail(`chunks[${i}]`, 'bad length')
    return { id, length: length as number }
  })
  if (chunks.length === 0) fields.fail('chunks', 'empty request')
  return { t: 'get', chunks }
}

export function encodeBlobResponse(response: BlobResponse): Uint8Array {
  if (response.t === 'chunk') return encodeCbor({ t: 'chunk', id: response.id, b: response.bytes })
  return encodeCbor({ t: 'missing', id: response.id })
}

export function decodeBlobResponse(bytes: Uint8Array): BlobResponse {
  const fields = decodeCbor(BLOB_PROTOCOL, bytes)
  const type = fields.string('t', 16)
  const id = fields.bytes('id', HASH_BYTES, HASH_BYTES)
  if (type === 'chunk') return { t: 'chunk', id, bytes: fields.bytes('b', BLOB_CHUNK_BYTES) }
  if (type === 'missing') return { t: 'missing', id }
  return fields.fail('t', `unknown response type ${JSON.stringify(type)}`)
}
