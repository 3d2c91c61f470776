/**
 * Input generators and bookkeeping for the decoder fuzzing of reliability-fuzz-*.test.ts: random
 * bytes, random CBOR values (via cborg, canonical or not), byte-level mutations of valid inputs,
 * and a tally of what each decoder did with them.
 */
import { encode } from 'cborg'
import { reportSummary, type Prng } from './soak.js'

/** Integers at the edges of every CBOR width and of JavaScript's safe range. */
export const EDGE_INTEGERS = [
  0,
  1,
  23,
  24,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -24,
  -25,
  -(2 ** 31),
  -(2 ** 53 - 1)
]

/** Field names the protocols use, so random maps hit real fields more often than not. */
export const FIELD_NAMES = [
  't',
  'v',
  'fs',
  'vv',
  'b',
  'id',
  'reset',
  'reason',
  'chunks',
  'proof',
  'inviter',
  'addrs',
  'secret',
  'exp'
]

export function randomString(rng: Prng, lengthMax = 40): string {
  const alphabets = ['abcdefghijklmnopqrstuvwxyz', './-_ \\0\n', 'éß漢字🙂', '\u0000\u0001\u007f\ud800']
  let out = ''
  const length = rng.int(lengthMax + 1)
  for (let i = 0; i < length; i++) out += rng.pick([...rng.pick(alphabets)])
  return out
}

/** A random JSON-able or CBOR-able value, nested up to `depth` levels. */
export function randomValue(rng: Prng, depth = 0, fieldNames: readonly string[] = FIELD_NAMES): unknown {
  const kinds = depth >= 3 ? 7 : 9
  switch (rng.int(kinds)) {
    case 0:
      return rng.pick(EDGE_INTEGERS)
    case 1:
      return rng.chance(0.5) ? rng.int(1000) : (rng.next() - 0.5) * 10 ** rng.int(20)
    case 2:
      return randomString(rng)
    case 3:
      return rng.bytes(rng.pick([0, 1, 15, 16, 17, 31, 32, 33, 64, rng.int(300)]))
    case 4:
      return rng.chance(0.5)
    case 5:
      return null
    case 6:
      return rng.pick([
        '',
        'hello',
        'have',
        'rec',
        'chunk',
        'bye',
        'get',
        'join',
        'welcome',
        'refused',
        'missing'
      ])
    case 7:
      return Array.from({ length: rng.int(5) }, () => randomValue(rng, depth + 1, fieldNames))
    default: {
      const map: Record<string, unknown> = {}
      for (let i = 0; i < rng.int(6); i++)
        map[rng.chance(0.8) ? rng.pick(fieldNames) : randomString(rng, 8)] = randomValue(
          rng,
          depth + 1,
          fieldNames
        )
      return map
    }
  }
}

/** CBOR of a random value (sometimes a map with a real message tag `t`). */
export function randomCbor(rng: Prng, tags: readonly string[]): Uint8Array {
  const value = rng.chance(0.7) ? { t: rng.pick(tags), ...(randomValue(rng, 1) as object) } : randomValue(rng)
  try {
    return encode(value)
  } catch {
    return rng.bytes(rng.int(64))
  }
}

/** One byte-level mutation: flip bits, truncate, append, insert, delete, splice a piece of `other`. */
export function mutateBytes(rng: Prng, input: Uint8Array, other?: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(input)
  if (bytes.byteLength === 0) return rng.bytes(rng.between(1, 8))
  switch (rng.int(7)) {
    case 0: {
      for (let i = 0; i < rng.between(1, 4); i++) flipBit(rng, bytes, rng.int(bytes.byteLength))
      return bytes
    }
    case 1:
      return bytes.slice(0, rng.int(bytes.byteLength))
    case 2:
      return concat(bytes, rng.bytes(rng.between(1, 32)))
    case 3: {
      const at = rng.int(bytes.byteLength)
      return concat(bytes.slice(0, at), rng.bytes(rng.between(1, 16)), bytes.slice(at))
    }
    case 4: {
      const at = rng.int(bytes.byteLength)
      return concat(bytes.slice(0, at), bytes.slice(at + rng.between(1, 16)))
    }
    case 5: {
      bytes[rng.int(bytes.byteLength)] = rng.pick([
        0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x5f, 0x7f, 0x9f, 0xbf, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa,
        0xfb, 0xff
      ])
      return bytes
    }
    default: {
      const donor = other ?? rng.bytes(32)
      const from = rng.int(donor.byteLength + 1)
      const piece = donor.slice(from, from + rng.between(1, 64))
      const at = rng.int(bytes.byteLength)
      return concat(bytes.slice(0, at), piece, bytes.slice(at + rng.int(piece.byteLength + 1)))
    }
  }
}

/** Flips one random bit of bytes[at]. */
export function flipBit(rng: Prng, bytes: Uint8Array, at: number): void {
  bytes[at] = (bytes[at] ?? 0) ^ (1 << rng.int(8))
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

/** What one decoder did with its inputs. */
export class Tally {
  inputs = 0
  accepted = 0
  readonly refused = new Map<string, number>()
  readonly findings: string[] = []
  slowestMs = 0

  constructor(readonly decoder: string) {}

  /**
   * Runs one decode: an answer or a typed error is fine; any other error, or a decode slower
   * than `slowMs`, is a finding (with the input, in hex, to reproduce it).
   */
  run<T>(
    input: Uint8Array | string,
    label: string,
    decode: () => T,
    typed: (err: unknown) => boolean,
    slowMs = 1000
  ): T | undefined {
    this.inputs++
    const started = performance.now()
    try {
      const value = decode()
      this.accepted++
      return value
    } catch (err) {
      const name = err instanceof Error ? err.name : typeof err
      this.refused.set(name, (this.refused.get(name) ?? 0) + 1)
      if (!typed(err)) this.find(`${label}: untyped ${name}: ${(err as Error)?.message}`, input)
      return undefined
    } finally {
      const elapsed = performance.now() - started
      this.slowestMs = Math.max(this.slowestMs, elapsed)
      if (elapsed > slowMs) this.find(`${label}: took ${elapsed.toFixed(0)} ms`, input)
    }
  }

  find(what: string, input: Uint8Array | string): void {
    if (this.findings.length >= 20) return
    const shown =
      typeof input === 'string'
        ? JSON.stringify(input.slice(0, 300))
        : Buffer.from(input.slice(0, 300)).toString('hex')
    this.findings.push(`${this.decoder}: ${what}; input ${shown}${input.length > 300 ? '…' : ''}`)
  }

  summary(): Record<string, string | number> {
    return {
      inputs: this.inputs,
      accepted: this.accepted,
      refused: this.inputs - this.accepted,
      'error kinds': [...this.refused.keys()].sort().join(' ') || 'none',
      'slowest ms': Number(this.slowestMs.toFixed(1)),
      findings: this.findings.length
    }
  }
}

/** Prints (and, under a soak script, records) one decoder's summary line. */
export function reportTally(tally: Tally, seed: number): void {
  reportSummary(`fuzz ${tally.decoder}`, { seed, ...tally.summary() })
}
