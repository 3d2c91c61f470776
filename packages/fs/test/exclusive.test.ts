import { describe, expect, test } from 'vitest'
import { decideExclusive, localExclusiveCreate, AgainError, ExistsError } from '../src/index.js'

const cut = new Map([
  ['a', 5],
  ['b', 3]
])

describe('exclusive create decision (DESIGN §4 step 3)', () => {
  test('wins when the name is free and no other live prepare is in the cut', () => {
    // Goal: the happy path, ignoring our own prepare and prepares outside the cut.
    const decision = decideExclusive({
      mine: { author: 'a', seq: 5 },
      cut,
      events: [{ by: { author: 'b', seq: 9 }, exists: true }],
      prepares: [{ by: { author: 'a', seq: 5 } }, { by: { author: 'b', seq: 7 } }]
    })
    expect(decision.outcome).toBe('won')
  })

  test('loses to a name that exists in the cut', () => {
    // Goal: EEXIST when the causal past of the acks holds the name.
    const events = [
      { by: { author: 'b', seq: 1 }, exists: true },
      { by: { author: 'a', seq: 2 }, exists: false },
      { by: { author: 'b', seq: 3 }, exists: true }
    ]
    expect(decideExclusive({ mine: { author: 'a', seq: 5 }, cut, events, prepares: [] }).outcome).toBe(
      'exists'
    )
    expect(
      decideExclusive({ mine: { author: 'a', seq: 5 }, cut, events: events.slice(0, 2), prepares: [] })
        .outcome
    ).toBe('won')
  })

  test('loses to another member’s un-cancelled prepare in the cut, not to a cancelled one', () => {
    // Goal: back off on contention; a cancel inside the cut ends the other prepare.
    const prepare = { by: { author: 'b', seq: 2 } }
    const mine = { author: 'a', seq: 5 }
    expect(decideExclusive({ mine, cut, events: [], prepares: [prepare] }).outcome).toBe('contended')
    const cancelled = { ...prepare, endedBy: { author: 'b', seq: 3 } }
    expect(decideExclusive({ mine, cut, events: [], prepares: [cancelled] }).outcome).toBe('won')
    const cancelledLater = { ...prepare, endedBy: { author: 'b', seq: 4 } }
    expect(decideExclusive({ mine, cut, events: [], prepares: [cancelledLater] }).outcome).toBe('contended')
  })

  test('the local strategy refuses strict mode with several members', async () => {
    // Goal: never grant a lock that is not safe: EAGAIN without a quorum strategy.
    const request = { dir: 'd', name: 'n', path: '/n', append: async () => ({}) as never }
    await expect(
      localExclusiveCreate.acquire({
        ...request,
        lockMode: 'strict',
        memberCount: 2,
        nameExists: () => false
      })
    ).rejects.toBeInstanceOf(AgainError)
    await expect(
      localExclusiveCreate.acquire({
        ...request,
        lockMode: 'available',
        memberCount: 2,
        nameExists: () => true
      })
    ).rejects.toBeInstanceOf(ExistsError)
    await localExclusiveCreate.acquire({
      ...request,
      lockMode: 'strict',
      memberCount: 1,
      nameExists: () => false
    })
  })
})
