/**
 * Messages of /ivyfs/join/1 (docs/PROTOCOLS.md): one request, one answer, then the stream closes.
 *   join     {t, fs, id, proof}   ticket id and HMAC proof of its secret (see ticket.ts)
 *   welcome  {t, vv}              admitted: the inviter's version vector after appending Member{add}
 *   refused  {t, reason}          one of JOIN_REFUSALS
 */
import { HASH_BYTES, type Hash, type VersionVector } from '@ivyfs/log'
import { decodeCbor, encodeCbor, encodeVersionVector } from './cbor.js'
import { JOIN_PROTOCOL, REASON_BYTES_MAX, TICKET_ID_BYTES, WIRE_VV_ENTRIES_MAX } from './constants.js'

export const JOIN_REFUSALS = [
  'unknown-ticket',
  'expired',
  'used',
  'bad-proof',
  'wrong-fs',
  'admit-failed'
] as const
export type JoinRefusal = (typeof JOIN_REFUSALS)[number]

export interface JoinRequest {
  t: 'join'
  fsId: Hash
  ticketId: Uint8Array
  proof: Uint8Array
}
export type JoinResponse = { t: 'welcome'; vv: VersionVector } | { t: 'refused'; reason: JoinRefusal }

export function encodeJoinRequest(request: JoinRequest): Uint8Array {
  return encodeCbor({ t: 'join', fs: request.fsId, id: request.ticketId, proof: request.proof })
}

export function decodeJoinRequest(bytes: Uint8Array): JoinRequest {
  const fields = decodeCbor(JOIN_PROTOCOL, bytes)
  if (fields.string('t', 16) !== 'join') fields.fail('t', 'expected join')
  return {
    t: 'join',
    fsId: fields.bytes('fs', HASH_BYTES, HASH_BYTES),
    ticketId: fields.bytes('id', TICKET_ID_BYTES, TICKET_ID_BYTES),
    proof: fields.bytes('proof', HASH_BYTES, HASH_BYTES)
  }
}

export function encodeJoinResponse(response: JoinResponse): Uint8Array {
  if (response.t === 'welcome') return encodeCbor({ t: 'welcome', vv: encodeVersionVector(response.vv) })
  return encodeCbor({ t: 'refused', reason: response.reason })
}

export function decodeJoinResponse(bytes: Uint8Array): JoinResponse {
  const fields = decodeCbor(JOIN_PROTOCOL, bytes)
  const type = fields.string('t', 16)
  if (type === 'welcome') return { t: 'welcome', vv: fields.versionVector('vv', WIRE_VV_ENTRIES_MAX) }
  if (type !== 'refused') return fields.fail('t', `unknown response type ${JSON.stringify(type)}`)
  const reason = fields.string('reason', REASON_BYTES_MAX)
  const known = JOIN_REFUSALS.find((r) => r === reason)
  return known === undefined
    ? fields.fail('reason', `unknown refusal ${JSON.stringify(reason)}`)
    : { t: 'refused', reason: known }
}
