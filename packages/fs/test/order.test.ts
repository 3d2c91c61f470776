import { describe, expect, test } from 'vitest'
import { Clocks, compareKeys } from '../src/index.js'

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const hex = (n: number): string => Buffer.from(key(n)).toString('hex')

describe('order', () => {
  test('keys sort by lamport, then author bytes', () => {
    // Goal: the total order of DESIGN §3, ties broken by public key.
    expect(compareKeys({ lamport: 1, author: 'ff' }, { lamport: 2, author: '00' })).toBeLessThan(0)
    expect(compareKeys({ lamport: 2, author: '01' }, { lamport: 2, author: '02' })).toBeLessThan(0)
    expect(compareKeys({ lamport: 2, author: '02' }, { lamport: 2, author: '02' })).toBe(0)
  })

  test('lamport is 1 + the max over the previous record and the vv delta', () => {
    // Goal: a record sorts after everything it depends on.
    const clocks = new Clocks()
    for (let seq = 0; seq < 5; seq++) {
      const placement = clocks.place(hex(1), seq, [])
      if (placement === 'missing') throw new Error('missing')
      clocks.commit(hex(1), placement)
    }
    const b0 = clocks.place(hex(2), 0, [{ author: key(1), seq: 3 }])
    expect(b0).not.toBe('missing')
    if (b0 === 'missing') return
    expect(b0.lamport).toBe(5)
    expect(b0.fullVv.get(hex(1))).toBe(3)
    expect(clocks.place(hex(2), 1, [])).toBe('missing')
    expect(clocks.place(hex(3), 0, [{ author: key(4), seq: 0 }])).toBe('missing')
  })

  test('the order is a linear extension of happens-before even where a pairwise comparator cycles', () => {
    // Goal: PAPER-NOTES §6 example: x(A) -> z(C), y(B) concurrent with both; no cycle.
    const clocks = new Clocks()
    const place = (author: number, seq: number, vv: { author: Uint8Array; seq: number }[]) => {
      const p = clocks.place(hex(author), seq, vv)
      if (p === 'missing') throw new Error('missing')
      clocks.commit(hex(author), p)
      return { lamport: p.lamport, author: hex(author) }
    }
    const x = place(0xaa, 0, [])
    const y = place(0xbb, 0, [])
    const z = place(0xcc, 0, [{ author: key(0xaa), seq: 0 }])
    const sorted = [z, y, x].sort(compareKeys)
    expect(sorted.indexOf(x)).toBeLessThan(sorted.indexOf(z))
  })
})
