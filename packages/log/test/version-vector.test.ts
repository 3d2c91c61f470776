import { describe, expect, test } from 'vitest'
import {
  compareBytes,
  fromHex,
  lamportOf,
  toHex,
  vvApplyDelta,
  vvCompare,
  vvCovers,
  vvDelta,
  vvMerge,
  type VersionVector
} from '../src/index.js'

const A = 'aa'.repeat(32)
const B = 'bb'.repeat(32)
const C = '0c'.repeat(32)
const AUTHORS = [A, B, C]
const VALUES = [undefined, 0, 1, 2]

/** Every vector over three authors with seqs in {absent, 0, 1, 2}: 64 vectors, 4096 pairs. */
function allVectors(): VersionVector[] {
  const out: VersionVector[] = []
  for (const a of VALUES)
    for (const b of VALUES)
      for (const c of VALUES) {
        const vector: VersionVector = new Map()
        ;[a, b, c].forEach((value, i) => value !== undefined && vector.set(AUTHORS[i]!, value))
        out.push(vector)
      }
  return out
}

/** Reference: a <= b when every record a covers, b covers. */
function leq(a: VersionVector, b: VersionVector): boolean {
  return [...a].every(([author, seq]) => vvCovers(b, author, seq))
}

function sorted(vector: VersionVector): [string, number][] {
  return [...vector].sort(([x], [y]) => (x < y ? -1 : 1))
}

const vectors = allVectors()

describe('vvCompare', () => {
  test('agrees with the covers relation on every pair of small vectors', () => {
    // Goal: the comparison is exactly the partial order of "covers every record of".
    for (const a of vectors)
      for (const b of vectors) {
        const expected = leq(a, b) ? (leq(b, a) ? 'equal' : 'before') : leq(b, a) ? 'after' : 'concurrent'
        expect(vvCompare(a, b)).toBe(expected)
      }
  })

  test('is antisymmetric: swapping the arguments mirrors the answer', () => {
    // Goal: before/after swap and equal/concurrent stay, for every pair.
    const mirror = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const
    for (const a of vectors) for (const b of vectors) expect(vvCompare(b, a)).toBe(mirror[vvCompare(a, b)])
  })

  test('treats an absent author as holding nothing, not seq 0', () => {
    // Goal: seq numbering starts at 0, so {A: 0} has one record more than {}.
    expect(vvCompare(new Map(), new Map([[A, 0]]))).toBe('before')
    expect(vvCompare(new Map([[A, 0]]), new Map([[B, 0]]))).toBe('concurrent')
  })
})

describe('vvCovers', () => {
  test('is vv[author] >= seq and accepts bytes or hex', () => {
    // Goal: coverage is inclusive and both author spellings work.
    const vector = new Map([[A, 3]])
    expect(vvCovers(vector, A, 3)).toBe(true)
    expect(vvCovers(vector, fromHex(A), 0)).toBe(true)
    expect(vvCovers(vector, A, 4)).toBe(false)
    expect(vvCovers(vector, B, 0)).toBe(false)
  })

  test('rejects a negative or fractional seq as a programmer error', () => {
    // Goal: nonsense seqs fail loudly instead of answering.
    expect(() => vvCovers(new Map(), A, -1)).toThrow(/seq/)
    expect(() => vvCovers(new Map(), A, 1.5)).toThrow(/seq/)
  })
})

describe('vvMerge', () => {
  test('is the least upper bound of every pair', () => {
    // Goal: the merge covers both inputs and nothing more (pointwise max).
    for (const a of vectors)
      for (const b of vectors) {
        const merged = vvMerge(a, b)
        expect(leq(a, merged) && leq(b, merged)).toBe(true)
        for (const c of [a, b]) if (leq(a, c) && leq(b, c)) expect(leq(merged, c)).toBe(true)
        expect(sorted(merged)).toEqual(sorted(vvMerge(b, a)))
      }
  })

  test('returns a new map and leaves its inputs alone', () => {
    // Goal: callers may keep using the vectors they passed in.
    const a = new Map([[A, 1]])
    const b = new Map([[B, 2]])
    const merged = vvMerge(a, b)
    expect(merged).not.toBe(a)
    expect(sorted(a)).toEqual([[A, 1]])
    expect(sorted(b)).toEqual([[B, 2]])
  })
})

describe('vvDelta and vvApplyDelta', () => {
  test('applying the delta to the previous vector gives the next one, for every pair', () => {
    // Goal: the on-disk delta loses nothing: running max over deltas rebuilds the full vector.
    for (const previous of vectors)
      for (const next of vectors) {
        if (!leq(previous, next)) continue
        const delta = vvDelta(previous, next, C)
        const expected = new Map([...next].filter(([author]) => author !== C))
        const rebuilt = vvApplyDelta(new Map([...previous].filter(([author]) => author !== C)), delta)
        expect(sorted(rebuilt)).toEqual(sorted(expected))
      }
  })

  test('holds only grown entries, sorted by author bytes, never the excluded author', () => {
    // Goal: the delta rule of DESIGN.md §2 (small records, canonical order).
    const delta = vvDelta(
      new Map([
        [A, 1],
        [B, 5]
      ]),
      new Map([
        [A, 2],
        [B, 5],
        [C, 0],
        ['01'.repeat(32), 9]
      ]),
      '01'.repeat(32)
    )
    expect(delta.map((entry) => [toHex(entry.author), entry.seq])).toEqual([
      [C, 0],
      [A, 2]
    ])
    for (let i = 1; i < delta.length; i++)
      expect(compareBytes(delta[i - 1]!.author, delta[i]!.author)).toBe(-1)
  })

  test('applying a delta is a running maximum and never lowers an entry', () => {
    // Goal: a stale entry cannot move a full vector backwards.
    const full = vvApplyDelta(new Map([[A, 5]]), [{ author: fromHex(A), seq: 3 }])
    expect(full.get(A)).toBe(5)
  })
})

describe('lamportOf', () => {
  test('is one more than the largest predecessor, and 1 without predecessors', () => {
    // Goal: Lamport times extend happens-before (DESIGN.md §3).
    expect(lamportOf([])).toBe(1)
    expect(lamportOf([3, 7, 2])).toBe(8)
    expect(lamportOf(new Set([1]))).toBe(2)
  })

  test('rejects a predecessor time below 1 as a programmer error', () => {
    // Goal: Lamport times start at 1, so 0 means a caller bug.
    expect(() => lamportOf([0])).toThrow(/Lamport/)
  })
})
