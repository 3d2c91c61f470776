/**
 * Messages of /ivyfs/replicate/1 (docs/PROTOCOLS.md). Each is one CBOR map in one frame, with a
 * short type tag `t`:
 *   hello  {t, v, fs, vv}       first message both ways: wire version, fs id, full version vector
 *   have   {t, vv, reset}       what the sender now holds (entries that changed); reset = forget
 *                               what you believed I hold and resend from exactly this vector
 *   rec    {t, b}               one signed record, exactly as stored
 *   chunk  {t, id, b}           one blob chunk (data or manifest), pushed before the record needing it
 *   bye    {t, reason}          the sender is closing the session and says why
 */
import { BLOB_CHUNK_BYTES, HASH_BYTES, RECORD_BYTES_MAX, type Hash, type VersionVector } from '@ivyfs/log'
import { decodeCbor, encodeCbor, encodeVersionVector } from './cbor.js'
import { REASON_BYTES_MAX, REPLICATE_PROTOCOL, WIRE_VV_ENTRIES_MAX } from './constants.js'

export interface HelloMessage {
  t: 'hello'
  version: number
  fsId: Hash
  vv: VersionVector
}
export interface HaveMessage {
  t: 'have'
  vv: VersionVector
  reset: boolean
}
export interface RecordMessage {
  t: 'rec'
  bytes: Uint8Array
}
export interface ChunkMessage {
  t: 'chunk'
  id: Hash
  bytes: Uint8Array
}
export interface ByeMessage {
  t: 'bye'
  reason: string
}
export type ReplicateMessage = HelloMessage | HaveMessage | RecordMessage | ChunkMessage | ByeMessage

export function encodeReplicateMessage(message: ReplicateMessage): Uint8Array {
  switch (message.t) {
    case 'hello':
      return encodeCbor({
        t: 'hello',
        v: message.version,
        fs: message.fsId,
        vv: encodeVersionVector(message.vv)
      })
    case 'have':
      return encodeCbor({ t: 'have', vv: encodeVersionVector(message.vv), reset: message.reset })
    case 'rec':
      return encodeCbor({ t: 'rec', b: message.bytes })
    case 'chunk':
      return encodeCbor({ t: 'chunk', id: message.id, b: message.bytes })
    case 'bye':
      return encodeCbor({ t: 'bye', reason: message.reason.slice(0, REASON_BYTES_MAX / 4) })
  }
}

export function decodeReplicateMessage(bytes: Uint8Array): ReplicateMessage {
  const fields = decodeCbor(REPLICATE_PROTOCOL, bytes)
  const type = fields.string('t', 16)
  switch (type) {
    case 'hello':
      return {
        t: 'hello',
        version: fields.uint('v', 0xffff),
        fsId: fields.bytes('fs', HASH_BYTES, HASH_BYTES),
        vv: fields.versionVector('vv', WIRE_VV_ENTRIES_MAX)
      }
    case 'have':
      return { t: 'have', vv: fields.versionVector('vv', WIRE_VV_ENTRIES_MAX), reset: fields.bool('reset') }
    case 'rec':
      return { t: 'rec', bytes: fields.bytes('b', RECORD_BYTES_MAX) }
    case 'chunk':
      return {
        t: 'chunk',
        id: fields.bytes('id', HASH_BYTES, HASH_BYTES),
        bytes: fields.bytes('b', BLOB_CHUNK_BYTES)
      }
    case 'bye':
      return { t: 'bye', reason: fields.string('reason', REASON_BYTES_MAX) }
    default:
      return fields.fail('t', `unknown message type ${JSON.stringify(type)}`)
  }
}
