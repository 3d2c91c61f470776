import { describe, expect, test } from 'vitest'
import { decideExclusive, isExpired, majority, type PrepareFact, type Witness } from '../src/index.js'

const cut = new Map([
  ['a', 5],
  ['b', 3]
])
const mine = { author: 'a', seq: 5 }

/** The newest record of `member`, stamped `timeMs`, covering `covers`. */
const witness = (member: string, timeMs: number, covers: Record<string, number>): Witness => ({
  member,
  timeMs,
  covers: new Map(Object.entries(covers))
})

describe('exclusive create decision (DESIGN §4 step 3)', () => {
  test('wins when the name is free and no other live prepare is in the cut', () => {
    // Goal: the happy path, ignoring our own prepare and prepares outside the cut.
    const decision = decideExclusive({
      mine,
      cut,
      events: [{ by: { author: 'b', seq: 9 }, exists: true }],
      prepares: [{ by: { author: 'a', seq: 5 } }, { by: { author: 'b', seq: 7 } }]
    })
    expect(decision.outcome).toBe('won')
  })

  test('loses to a name that exists in the cut, and wins once it was removed', () => {
    // Goal: EEXIST when the causal past of the acks holds the name; the last event counts.
    const events = [
      { by: { author: 'b', seq: 1 }, exists: true },
      { by: { author: 'a', seq: 2 }, exists: false },
      { by: { author: 'b', seq: 3 }, exists: true }
    ]
    expect(decideExclusive({ mine, cut, events, prepares: [] })).toEqual({
      outcome: 'exists',
      by: { author: 'b', seq: 3 }
    })
    expect(decideExclusive({ mine, cut, events: events.slice(0, 2), prepares: [] }).outcome).toBe('won')
  })

  test('loses to another member’s concurrent prepare in the cut', () => {
    // Goal: back off on contention: a live prepare of someone else blocks the name.
    const prepare = { by: { author: 'b', seq: 2 } }
    expect(decideExclusive({ mine, cut, events: [], prepares: [prepare] })).toEqual({
      outcome: 'contended',
      by: { author: 'b', seq: 2 }
    })
  })

  test('ignores a cancelled or completed prepare, but only when the end is in the cut', () => {
    // Goal: a Cancel (or the completing Link) inside the cut ends the other prepare.
    const cancelled = { by: { author: 'b', seq: 2 }, endedBy: { author: 'b', seq: 3 } }
    expect(decideExclusive({ mine, cut, events: [], prepares: [cancelled] }).outcome).toBe('won')
    const endedLater = { by: { author: 'b', seq: 2 }, endedBy: { author: 'b', seq: 4 } }
    expect(decideExclusive({ mine, cut, events: [], prepares: [endedLater] }).outcome).toBe('contended')
  })

  test('without a cut the whole local view counts (a superset of the acks’ causal past)', () => {
    // Goal: the strategy passes no cut; everything held is then in it.
    const prepare = { by: { author: 'c', seq: 40 } }
    expect(decideExclusive({ mine, events: [], prepares: [prepare] }).outcome).toBe('contended')
    const exists = [{ by: { author: 'c', seq: 41 }, exists: true }]
    expect(decideExclusive({ mine, events: exists, prepares: [] }).outcome).toBe('exists')
  })

  test('ignores an expired prepare only with a majority of late witnesses covering it', () => {
    // Goal: a stuck prepare stops blocking once a majority holds it in records stamped after its expiry.
    const stuck: PrepareFact = { by: { author: 'c', seq: 4 }, timeMs: 1_000 }
    const expiryMs = 500
    const late = [witness('a', 1_600, { a: 9, c: 4 }), witness('b', 1_700, { b: 2, c: 4 })]
    const expiry = { expiryMs, memberCount: 3, witnesses: late }
    expect(isExpired(stuck, expiry)).toBe(true)
    expect(decideExclusive({ mine, events: [], prepares: [stuck], expiry })).toEqual({
      outcome: 'won',
      expired: [{ author: 'c', seq: 4 }]
    })
    // One late witness is not a majority of three.
    const minority = { ...expiry, witnesses: [late[0]!, witness('b', 1_400, { c: 4 })] }
    expect(decideExclusive({ mine, events: [], prepares: [stuck], expiry: minority }).outcome).toBe(
      'contended'
    )
    // Late witnesses that do not cover the prepare prove nothing about it.
    const blind = { ...expiry, witnesses: [witness('a', 1_600, { c: 3 }), witness('b', 1_700, {})] }
    expect(decideExclusive({ mine, events: [], prepares: [stuck], expiry: blind }).outcome).toBe('contended')
    // Exactly at the expiry is not yet after it.
    const edge = { ...expiry, witnesses: [witness('a', 1_500, { c: 4 }), witness('b', 1_500, { c: 4 })] }
    expect(isExpired(stuck, edge)).toBe(false)
    // A prepare without a known time never expires.
    expect(isExpired({ by: stuck.by }, expiry)).toBe(false)
  })

  test('an existing name wins over everything else', () => {
    // Goal: EEXIST is decided before contention or expiry.
    const events = [{ by: { author: 'b', seq: 1 }, exists: true }]
    const prepares = [{ by: { author: 'c', seq: 1 } }]
    expect(decideExclusive({ mine, events, prepares }).outcome).toBe('exists')
  })

  test('majority sizes', () => {
    // Goal: any two majorities of the same member set intersect.
    expect([1, 2, 3, 4, 5, 6].map(majority)).toEqual([1, 2, 2, 3, 3, 4])
    for (let n = 1; n <= 9; n++) expect(2 * majority(n)).toBeGreaterThan(n)
  })
})
