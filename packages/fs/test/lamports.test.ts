import { describe, expect, test } from 'vitest'
import { LAMPORT_MAX } from '../src/constants.js'
import { LamportOverflowError, Lamports } from '../src/lamports.js'

describe('Lamports', () => {
  test('holds each pushed lamport by seq across chunk boundaries; seqs not held are undefined', () => {
    // Goal: the compact per-author list answers exactly as the array it replaced.
    const lamports = new Lamports()
    const model: number[] = []
    let lamport = 0
    for (let seq = 0; seq < 10_000; seq++) {
      lamport += 1 + (seq % 7)
      lamports.push(lamport)
      model.push(lamport)
    }
    expect(lamports.length).toBe(model.length)
    for (const seq of [0, 1, 4095, 4096, 4097, 8191, 8192, 9999]) expect(lamports.at(seq)).toBe(model[seq])
    for (let seq = 0; seq < model.length; seq++)
      if (lamports.at(seq) !== model[seq]) throw new Error(`seq ${seq}`)
    for (const seq of [-1, 10_000, 20_000, 0.5, NaN]) expect(lamports.at(seq)).toBeUndefined()
  })

  test('a prefix reads the first entries only and sees nothing pushed later', () => {
    // Goal: a snapshot's view of the stable lamports is fixed when taken, without a copy.
    const lamports = new Lamports()
    for (let seq = 0; seq < 5000; seq++) lamports.push(seq + 1)
    const prefix = lamports.prefix(4097)
    lamports.push(5001)
    expect(prefix.length).toBe(4097)
    expect(prefix.at(4096)).toBe(4097)
    expect(prefix.at(4097)).toBeUndefined()
    expect(lamports.prefix(99_999).length).toBe(5001)
  })

  test('a lamport beyond LAMPORT_MAX is refused with its own error', () => {
    // Goal: the 4-byte representation never wraps silently.
    const lamports = new Lamports()
    lamports.push(LAMPORT_MAX)
    expect(() => lamports.push(LAMPORT_MAX + 1)).toThrow(LamportOverflowError)
    expect(() => lamports.push(-1)).toThrow(LamportOverflowError)
    expect(lamports.length).toBe(1)
  })
})
