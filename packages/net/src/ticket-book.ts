/**
 * The inviter's record of the tickets it issued, kept in a sublevel of the store's LevelDB so a
 * ticket stays one-time across restarts. Entry per ticket id: CBOR {secret, exp, usedBy?}.
 * Redemptions are serialised: a ticket is marked used (durably) before the joiner is admitted,
 * and released again if admission fails. Redeeming again with the same joiner key is answered
 * as a success (its first answer may have been lost); with another key it is refused as used.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { toHex, type PublicKey, type Sublevel } from '@ivyfs/log'
import { decodeCbor, encodeCbor } from './cbor.js'
import { TICKET_SECRET_BYTES, TICKETS_MAX } from './constants.js'
import { InvalidTicketError } from './errors.js'
import type { JoinRefusal } from './join-messages.js'
import { TICKET_TTL_MS_MAX, ticketId } from './ticket.js'

interface Entry {
  secret: Uint8Array
  expiresMs: number
  usedBy: string | undefined
}

export interface IssuedTicket {
  secret: Uint8Array
  expiresMs: number
}

export interface Redemption {
  ticketId: Uint8Array
  proof: Uint8Array
  joiner: PublicKey
  /** The proof an honest joiner computes from the secret (see ticket.ts joinProof). */
  expectedProof: (secret: Uint8Array) => Uint8Array
  /** Appends Member{add} for the joiner (the daemon's callback). */
  admit: () => Promise<void>
  nowMs: number
}

export class TicketBook {
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly storage: Sublevel) {}

  /** Records a new ticket; refuses (storing nothing) a lifetime outside 1..TICKET_TTL_MS_MAX ms. */
  async issue(ttlMs: number, nowMs: number): Promise<IssuedTicket> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > TICKET_TTL_MS_MAX)
      throw new InvalidTicketError(`lifetime ${ttlMs} ms is not an integer from 1 to ${TICKET_TTL_MS_MAX}`)
    // Every entry must decode again (decodeEntry drops what does not): an exact expiry.
    if (!Number.isSafeInteger(nowMs + ttlMs) || nowMs < 0)
      throw new InvalidTicketError(`expiry ${nowMs} + ${ttlMs} ms is not an exact integer`)
    return this.serialised(async () => {
      await this.prune(nowMs)
      const secret = new Uint8Array(randomBytes(TICKET_SECRET_BYTES))
      const entry: Entry = { secret, expiresMs: nowMs + ttlMs, usedBy: undefined }
      await this.storage.put(toHex(ticketId(secret)), encodeEntry(entry))
      return { secret, expiresMs: entry.expiresMs }
    })
  }

  async redeem(redemption: Redemption): Promise<'welcome' | JoinRefusal> {
    return this.serialised(async () => {
      const key = toHex(redemption.ticketId)
      const stored = await this.storage.get(key)
      const entry = stored === undefined ? undefined : decodeEntry(stored)
      if (entry === undefined) return 'unknown-ticket'
      const expected = redemption.expectedProof(entry.secret)
      if (
        expected.byteLength !== redemption.proof.byteLength ||
        !timingSafeEqual(expected, redemption.proof)
      ) {
        return 'bad-proof'
      }
      const joiner = toHex(redemption.joiner)
      if (entry.usedBy !== undefined) return entry.usedBy === joiner ? 'welcome' : 'used'
      if (entry.expiresMs <= redemption.nowMs) return 'expired'
      await this.storage.put(key, encodeEntry({ ...entry, usedBy: joiner }))
      try {
        await redemption.admit()
      } catch (err) {
        await this.storage.put(key, encodeEntry(entry))
        throw err
      }
      return 'welcome'
    })
  }

  /** Drops expired tickets (used or not), then the soonest-expiring unused ones beyond TICKETS_MAX - 1. */
  private async prune(nowMs: number): Promise<void> {
    const live: Array<{ key: string; expiresMs: number }> = []
    for await (const [key, value] of this.storage.iterator()) {
      const entry = decodeEntry(value)
      if (entry === undefined || entry.expiresMs <= nowMs) await this.storage.del(key)
      else if (entry.usedBy === undefined) live.push({ key, expiresMs: entry.expiresMs })
    }
    live.sort((a, b) => a.expiresMs - b.expiresMs)
    for (const { key } of live.slice(0, Math.max(0, live.length - (TICKETS_MAX - 1))))
      await this.storage.del(key)
  }

  private async serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work)
    this.queue = next.catch(() => undefined)
    return next
  }
}

function encodeEntry(entry: Entry): Uint8Array {
  const map: Record<string, unknown> = { secret: entry.secret, exp: entry.expiresMs }
  if (entry.usedBy !== undefined) map['usedBy'] = entry.usedBy
  return encodeCbor(map)
}

function decodeEntry(bytes: Uint8Array): Entry | undefined {
  try {
    const fields = decodeCbor('ticket book', bytes)
    const usedBy = fields.has('usedBy') ? fields.string('usedBy', 64) : undefined
    return {
      secret: fields.bytes('secret', TICKET_SECRET_BYTES, TICKET_SECRET_BYTES),
      expiresMs: fields.uint('exp'),
      usedBy
    }
  } catch {
    return undefined
  }
}
