/**
 * Invite tickets and the ticket book: whatever encodeTicket returns decodes again, and the book
 * refuses a lifetime it could not store as an exact expiry before it stores anything.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { KeyPair, LogStore } from '@ivyfs/log'
import { InvalidTicketError, TICKET_ADDRESSES_MAX } from '../src/index.js'
import { TicketBook } from '../src/ticket-book.js'
import { TICKET_TTL_MS_MAX, decodeTicket, encodeTicket, type Ticket } from '../src/ticket.js'
import { seededKeys, testFs } from './helpers.js'

const NOW_MS = 1_700_000_000_000

function ticket(fields: Partial<Ticket> = {}): Ticket {
  const creator = seededKeys('inviter')
  return {
    fsId: testFs(creator).fsId,
    inviter: creator.publicKey,
    addresses: ['/ip4/127.0.0.1/tcp/4499'],
    secret: new Uint8Array(32).fill(9),
    expiresMs: NOW_MS,
    ...fields
  }
}

describe('encodeTicket', () => {
  test('round-trips every field through decodeTicket', () => {
    // Goal: a ticket printed by `ivy invite` is read back exactly by `ivy join`.
    const original = ticket({
      addresses: ['/ip4/10.0.0.1/tcp/1', '/ip6/::1/tcp/2', '/dns4/example.org/tcp/3'],
      expiresMs: NOW_MS + TICKET_TTL_MS_MAX
    })
    expect(decodeTicket(encodeTicket(original))).toEqual(original)
  })

  test('refuses, as InvalidTicketError, what decodeTicket would refuse', () => {
    // Goal: encodeTicket never produces a ticket that cannot be redeemed; each refusal is typed
    // (the multiaddr library's own errors, such as UnknownProtocolError, are wrapped).
    const refused: Array<[Partial<Ticket>, RegExp]> = [
      [{ addresses: ['nonsense'] }, /not a multiaddr: "nonsense"/],
      [{ addresses: ['/ip4/1.2.3.4/tcq/1'] }, /not a multiaddr: .*Protocol tcq was unknown/],
      [{ addresses: [`/dns4/${'a'.repeat(300)}/tcp/1`] }, /address longer than 256 bytes/],
      [
        { addresses: Array.from({ length: TICKET_ADDRESSES_MAX }, () => `/dns4/${'a'.repeat(200)}/tcp/1`) },
        /too long/
      ],
      [{ expiresMs: Number.MAX_SAFE_INTEGER + 1 }, /expiry .* is not a non-negative integer/],
      [{ expiresMs: -1 }, /expiry -1 is not a non-negative integer/],
      [{ expiresMs: 1.5 }, /expiry 1.5 is not a non-negative integer/]
    ]
    for (const [fields, message] of refused) {
      const attempt = (): string => encodeTicket(ticket(fields))
      expect(attempt, JSON.stringify(fields).slice(0, 80)).toThrow(InvalidTicketError)
      expect(attempt).toThrow(message)
    }
  })
})

describe('TicketBook.issue', () => {
  let dir: string | undefined
  let store: LogStore | undefined

  afterEach(async () => {
    await store?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = store = undefined
  })

  test('refuses a lifetime outside 1..TICKET_TTL_MS_MAX and stores nothing for it', async () => {
    // Goal: a huge ttl (Number.MAX_SAFE_INTEGER once made an expiry the book and the decoder
    // could not read back) is refused before the book writes an entry.
    dir = await mkdtemp(join(tmpdir(), 'ivyfs-ticket-book-'))
    const keys = KeyPair.generate()
    store = await LogStore.open({ path: join(dir, 'store'), fsId: testFs(keys).fsId, keys })
    const storage = store.sublevel('tickets')
    const book = new TicketBook(storage)
    for (const ttlMs of [Number.MAX_SAFE_INTEGER, TICKET_TTL_MS_MAX + 1, 0, -1, 1.5, Number.NaN]) {
      await expect(book.issue(ttlMs, NOW_MS), String(ttlMs)).rejects.toBeInstanceOf(InvalidTicketError)
    }
    await expect(book.issue(1, Number.MAX_SAFE_INTEGER)).rejects.toBeInstanceOf(InvalidTicketError)
    expect(await storage.keys().all()).toEqual([])
    const issued = await book.issue(TICKET_TTL_MS_MAX, NOW_MS)
    expect(issued.expiresMs).toBe(NOW_MS + TICKET_TTL_MS_MAX)
    expect(await storage.keys().all()).toHaveLength(1)
  })
})
