/**
 * Invitation tickets: what `ivy invite` prints and `ivy join` takes. A ticket is
 * `ivy1-` + unpadded lowercase base32 (RFC 4648) of a CBOR map
 *   {v: 1, fs: fs id, inviter: inviter key, addrs: [multiaddr bytes], secret: 32 bytes, exp: ms}.
 * The fs id self-certifies the genesis record the joiner will receive; the inviter key is the
 * libp2p identity the joiner dials (Noise proves it); the secret never crosses the wire: the
 * joiner sends an HMAC of the join context under it (see joinProof), bound to both keys.
 */
import { createHash, createHmac } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { HASH_BYTES, PUBLIC_KEY_BYTES, UINT_MAX, type Hash, type PublicKey } from '@ivyfs/log'
import { decodeCbor, encodeCbor } from './cbor.js'
import { TICKET_ADDRESSES_MAX, TICKET_BYTES_MAX, TICKET_ID_BYTES, TICKET_SECRET_BYTES } from './constants.js'
import { InvalidTicketError, MalformedMessageError } from './errors.js'

export const TICKET_PREFIX = 'ivy1-'
const TICKET_VERSION = 1
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const ADDRESS_BYTES_MAX = 256
/** Characters of the longest ticket text: the prefix and TICKET_BYTES_MAX bytes in base32. */
const TICKET_CHARS_MAX = TICKET_PREFIX.length + Math.floor((TICKET_BYTES_MAX * 8) / 5)

/**
 * Longest lifetime of a ticket (365 days): a ticket is a bearer secret, so it must go stale, and
 * issue time plus lifetime must stay an exact integer (the decoder refuses anything above
 * Number.MAX_SAFE_INTEGER). The ticket book refuses longer lifetimes before it stores anything.
 */
export const TICKET_TTL_MS_MAX = 365 * 24 * 60 * 60 * 1000

export interface Ticket {
  fsId: Hash
  inviter: PublicKey
  /** Multiaddrs of the inviter without the /p2p part (the inviter key names the peer). */
  addresses: string[]
  secret: Uint8Array
  expiresMs: number
}

/**
 * Encodes a ticket; throws InvalidTicketError for fields decodeTicket would refuse (an address
 * that is not a multiaddr or is too long, an expiry that is not an exact integer, too large a
 * ticket), so every ticket issued can be redeemed.
 */
export function encodeTicket(ticket: Ticket): string {
  if (!Number.isSafeInteger(ticket.expiresMs) || ticket.expiresMs < 0)
    throw new InvalidTicketError(`expiry ${ticket.expiresMs} is not a non-negative integer`)
  const body = encodeCbor({
    v: TICKET_VERSION,
    fs: ticket.fsId,
    inviter: ticket.inviter,
    addrs: ticket.addresses.slice(0, TICKET_ADDRESSES_MAX).map(encodeAddress),
    secret: ticket.secret,
    exp: ticket.expiresMs
  })
  const text = TICKET_PREFIX + encodeBase32(body)
  if (text.length > TICKET_CHARS_MAX)
    throw new InvalidTicketError(`too long: ${body.byteLength} bytes, at most ${TICKET_BYTES_MAX}`)
  return text
}

/** The binary form of one ticket address; InvalidTicketError for what decodeTicket would refuse. */
function encodeAddress(address: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = multiaddr(address).bytes
  } catch (err) {
    // @multiformats/multiaddr throws several untyped classes (InvalidMultiaddrError, UnknownProtocolError…).
    const detail = err instanceof Error ? err.message : String(err)
    throw new InvalidTicketError(`not a multiaddr: ${JSON.stringify(address)} (${detail})`)
  }
  if (bytes.byteLength > ADDRESS_BYTES_MAX)
    throw new InvalidTicketError(`address longer than ${ADDRESS_BYTES_MAX} bytes: ${address}`)
  return bytes
}

/** Parses a ticket string; throws InvalidTicketError for anything that is not a well-formed one. */
export function decodeTicket(text: string): Ticket {
  const trimmed = text.trim()
  if (!trimmed.startsWith(TICKET_PREFIX)) throw new InvalidTicketError(`does not start with ${TICKET_PREFIX}`)
  if (trimmed.length > TICKET_CHARS_MAX) throw new InvalidTicketError('too long')
  const body = decodeBase32(trimmed.slice(TICKET_PREFIX.length).toLowerCase())
  try {
    const fields = decodeCbor('ticket', body)
    const version = fields.uint('v')
    if (version !== TICKET_VERSION) throw new InvalidTicketError(`unsupported version ${version}`)
    const addresses = fields.array('addrs', TICKET_ADDRESSES_MAX).map((item, i) => {
      if (!(item instanceof Uint8Array) || item.byteLength > ADDRESS_BYTES_MAX)
        return fields.fail(`addrs[${i}]`, 'bad')
      try {
        return multiaddr(item).toString()
      } catch {
        return fields.fail(`addrs[${i}]`, 'not a multiaddr')
      }
    })
    return {
      fsId: fields.bytes('fs', HASH_BYTES, HASH_BYTES),
      inviter: fields.bytes('inviter', PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES),
      addresses,
      secret: fields.bytes('secret', TICKET_SECRET_BYTES, TICKET_SECRET_BYTES),
      expiresMs: fields.uint('exp', UINT_MAX)
    }
  } catch (err) {
    if (err instanceof MalformedMessageError) throw new InvalidTicketError(String(err.data['detail']))
    throw err
  }
}

/** Names a ticket on the wire and in the inviter's book without revealing its secret. */
export function ticketId(secret: Uint8Array): Uint8Array {
  const hash = createHash('sha256').update('ivyfs/ticket-id/1').update(secret).digest()
  return new Uint8Array(hash.subarray(0, TICKET_ID_BYTES))
}

/**
 * What the joiner sends instead of the secret: HMAC-SHA256 under the secret of the fs id, the
 * inviter key and the joiner key. Bound to both keys, so a proof seen by a third party cannot be
 * replayed for another key or towards another inviter.
 */
export function joinProof(secret: Uint8Array, fsId: Hash, inviter: PublicKey, joiner: PublicKey): Uint8Array {
  const mac = createHmac('sha256', secret)
  mac.update('ivyfs/join/1').update(fsId).update(inviter).update(joiner)
  return new Uint8Array(mac.digest())
}

export function encodeBase32(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

export function decodeBase32(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8))
  let buffer = 0
  let bits = 0
  let index = 0
  for (const char of text) {
    const value = ALPHABET.indexOf(char)
    if (value < 0) throw new InvalidTicketError(`character ${JSON.stringify(char)} is not base32`)
    buffer = ((buffer << 5) | value) & 0xffff
    bits += 5
    if (bits >= 8) {
      out[index++] = (buffer >>> (bits - 8)) & 0xff
      bits -= 8
    }
  }
  // Canonical: leftover bits are padding and must be zero (one text per ticket).
  if (bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) throw new InvalidTicketError('bad base32 padding')
  return out
}
