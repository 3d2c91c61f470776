import { afterEach, describe, expect, test } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { multiaddr } from '@multiformats/multiaddr'
import { toHex } from '@ivyfs/log'
import {
  FrameReader,
  JOIN_PROTOCOL,
  JoinRefusedError,
  SessionRefusedError,
  TicketExpiredError,
  createNode,
  decodeJoinResponse,
  decodeTicket,
  encodeJoinRequest,
  encodeTicket,
  writeFrame,
  type IvyNode
} from '../src/index.js'
import { joinProof, ticketId } from '../src/ticket.js'
import {
  Harness,
  Members,
  appendMany,
  eventually,
  seededKeys,
  snapshot,
  testFs,
  vvEqual,
  type TestFs
} from './helpers.js'

const harness = new Harness()
const rawNodes: IvyNode[] = []
afterEach(async () => {
  for (const node of rawNodes.splice(0)) await node.stop()
  await harness.cleanup()
})

/** What a joining daemon knows before it joins: only the fs id from the ticket. */
function fsFromTicket(ticket: string, creator: TestFs['creator']): TestFs {
  return { creator, fsId: decodeTicket(ticket).fsId, genesisOps: [] }
}

describe('membership', () => {
  test('a key that is not a member is refused at the protocol level and logged', async () => {
    // Goal: a non-member can connect but cannot replicate, and neither store changes.
    const a = seededKeys('a')
    const x = seededKeys('outsider')
    const fs = testFs(a)
    const nodeA = await harness.node(fs, a, { members: new Members(a) })
    const nodeX = await harness.node(fs, x, { members: new Members(a, x) })
    await appendMany(nodeX.store, 2, 'x')
    await appendMany(nodeA.store, 2, 'a')
    const before = { a: await snapshot(nodeA.store), x: await snapshot(nodeX.store) }
    const refused: string[] = []
    nodeA.network.on('peer:refused', ({ peer }) => refused.push(peer))
    await nodeA.network.start()
    await nodeX.network.start()
    await expect(nodeX.network.dial(nodeA.network.addresses()[0]!)).rejects.toBeInstanceOf(
      SessionRefusedError
    )
    expect(refused).toEqual([toHex(x.publicKey)])
    expect(nodeA.logger.has('warn', 'non-member')).toBe(true)
    expect(await snapshot(nodeA.store)).toEqual(before.a)
    expect(await snapshot(nodeX.store)).toEqual(before.x)
  })

  test('join with a valid ticket admits the joiner, which then catches up from an empty store', async () => {
    // Goal: invite → join appends Member{add} on the inviter and the joiner replicates everything.
    const a = seededKeys('a')
    const j = seededKeys('joiner')
    const fs = testFs(a)
    const members = new Members(a)
    const nodeA = await harness.node(fs, a, { members })
    await appendMany(nodeA.store, 5, 'a')
    await nodeA.network.start()
    const ticket = await nodeA.network.createTicket({ ttlMs: 60_000 })
    expect(ticket.startsWith('ivy1-')).toBe(true)
    const nodeJ = await harness.node(fsFromTicket(ticket, a), j, { members: new Members() })
    await nodeJ.network.start()
    const result = await nodeJ.network.join(ticket)
    expect(result.inviter).toBe(toHex(a.publicKey))
    expect(members.isMember(j.publicKey)).toBe(true)
    expect(vvEqual(nodeJ.store.versionVector(), nodeA.store.versionVector())).toBe(true)
    const admission = (await nodeJ.store.get(a.publicKey, 6))!
    expect(admission.body.ops).toEqual([{ type: 'member', action: 'add', key: j.publicKey }])
    // The new member now writes and the inviter receives it live.
    await appendMany(nodeJ.store, 2, 'j')
    await eventually('joiner records reach the inviter', () => nodeA.store.length(j.publicKey) === 2)
  })

  test('a reused, expired or wrong-secret ticket is refused', async () => {
    // Goal: a ticket admits exactly one key, only before it expires, only with its secret.
    const a = seededKeys('a')
    const fs = testFs(a)
    const members = new Members(a)
    const nodeA = await harness.node(fs, a, { members })
    await nodeA.network.start()
    const ticket = await nodeA.network.createTicket({ ttlMs: 60_000 })
    const first = await harness.node(fsFromTicket(ticket, a), seededKeys('first'), { members: new Members() })
    const second = await harness.node(fsFromTicket(ticket, a), seededKeys('second'), {
      members: new Members()
    })
    await first.network.start()
    await second.network.start()
    await first.network.join(ticket)
    await expect(second.network.join(ticket)).rejects.toMatchObject({
      name: 'JoinRefusedError',
      reason: 'used'
    })

    const wrongSecret = {
      ...decodeTicket(await nodeA.network.createTicket()),
      secret: new Uint8Array(32).fill(9)
    }
    await expect(second.network.join(encodeTicket(wrongSecret))).rejects.toMatchObject({
      reason: 'unknown-ticket'
    })

    const short = decodeTicket(await nodeA.network.createTicket({ ttlMs: 1 }))
    // Expiry is a clock condition: wait (bounded) until this clock is past it. Joining at once
    // raced it: within the same millisecond the local check passed and the inviter refused.
    await waitFor('the 1 ms ticket to expire', () => Date.now() > short.expiresMs, { intervalMs: 1 })
    await expect(second.network.join(short)).rejects.toBeInstanceOf(TicketExpiredError)
    // The joiner cannot see the inviter's clock: lie about the expiry and the inviter still refuses.
    await expect(second.network.join({ ...short, expiresMs: Date.now() + 60_000 })).rejects.toMatchObject({
      reason: 'expired'
    })
    expect(members.isMember(seededKeys('second').publicKey)).toBe(false)
    expect(nodeA.logger.has('warn', 'refused a join')).toBe(true)
  })

  test('a proof made for another key is refused (a seen proof cannot be replayed)', async () => {
    // Goal: the proof binds the joiner key; replaying someone else's proof fails with bad-proof.
    const a = seededKeys('a')
    const fs = testFs(a)
    const nodeA = await harness.node(fs, a, { members: new Members(a) })
    await nodeA.network.start()
    const ticket = decodeTicket(await nodeA.network.createTicket())
    const thief = await createNode({
      keys: seededKeys('thief'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false
    })
    rawNodes.push(thief)
    await thief.start()
    const stream = await thief.dialProtocol(multiaddr(nodeA.network.addresses()[0]!), JOIN_PROTOCOL)
    const reader = new FrameReader(stream)
    const victimProof = joinProof(ticket.secret, ticket.fsId, ticket.inviter, seededKeys('victim').publicKey)
    await writeFrame(
      stream,
      encodeJoinRequest({
        t: 'join',
        fsId: ticket.fsId,
        ticketId: ticketId(ticket.secret),
        proof: victimProof
      })
    )
    const answer = decodeJoinResponse((await reader.next())!)
    expect(answer).toEqual({ t: 'refused', reason: 'bad-proof' })
    expect(new JoinRefusedError('bad-proof').name).toBe('JoinRefusedError')
  })
})
