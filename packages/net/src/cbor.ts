/**
 * CBOR for protocol messages: cborg with strict decoding (no indefinite lengths, undefined, NaN,
 * Infinity, bigints or duplicate keys), and a field reader that turns every shape error into a
 * MalformedMessageError naming the protocol and field. Inputs are already bounded by the frame
 * reader; this bounds what is inside (array lengths, byte lengths, integer ranges).
 */
import { decode, encode } from 'cborg'
import { fromHex, toHex, type VersionVector } from '@ivyfs/log'
import { PUBLIC_KEY_BYTES, UINT_MAX } from '@ivyfs/log'
import { MalformedMessageError } from './errors.js'

const DECODE_OPTIONS = {
  strict: true,
  useMaps: false,
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false
} as const

export function encodeCbor(value: Readonly<Record<string, unknown>>): Uint8Array {
  return encode(value)
}

/** Decodes one CBOR map; anything else (or trailing bytes, or deep nesting) is malformed. */
export function decodeCbor(protocol: string, bytes: Uint8Array): Fields {
  let value: unknown
  try {
    value = decode(bytes, DECODE_OPTIONS)
  } catch (err) {
    // RangeError from pathological nesting lands here too: it is the peer's fault, not ours.
    throw new MalformedMessageError(protocol, err instanceof Error ? err.message : 'undecodable')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new MalformedMessageError(protocol, 'not a map')
  }
  return new Fields(protocol, value as Record<string, unknown>)
}

/** Typed, bounded access to the fields of one decoded message. */
export class Fields {
  constructor(
    readonly protocol: string,
    private readonly map: Readonly<Record<string, unknown>>
  ) {}

  has(name: string): boolean {
    return Object.hasOwn(this.map, name)
  }

  raw(name: string): unknown {
    return Object.hasOwn(this.map, name) ? this.map[name] : undefined
  }

  fail(name: string, detail: string): never {
    throw new MalformedMessageError(this.protocol, `${name}: ${detail}`)
  }

  string(name: string, bytesMax: number): string {
    const value = this.raw(name)
    if (typeof value !== 'string') this.fail(name, 'not a string')
    if (Buffer.byteLength(value) > bytesMax) this.fail(name, `longer than ${bytesMax} bytes`)
    return value
  }

  bytes(name: string, bytesMax: number, bytesExact?: number): Uint8Array {
    return this.checkBytes(name, this.raw(name), bytesMax, bytesExact)
  }

  uint(name: string, max = UINT_MAX): number {
    return this.checkUint(name, this.raw(name), max)
  }

  bool(name: string): boolean {
    const value = this.raw(name)
    if (typeof value !== 'boolean') this.fail(name, 'not a boolean')
    return value
  }

  array(name: string, lengthMax: number): unknown[] {
    const value = this.raw(name)
    if (!Array.isArray(value)) this.fail(name, 'not an array')
    if (value.length > lengthMax) this.fail(name, `more than ${lengthMax} items`)
    return value
  }

  bytesList(name: string, lengthMax: number, bytesExact: number): Uint8Array[] {
    return this.array(name, lengthMax).map((item, i) =>
      this.checkBytes(`${name}[${i}]`, item, bytesExact, bytesExact)
    )
  }

  /** A version vector: [[key bytes, seq], …], keys unique. */
  versionVector(name: string, entriesMax: number): VersionVector {
    const vv: VersionVector = new Map()
    this.array(name, entriesMax).forEach((entry, i) => {
      if (!Array.isArray(entry) || entry.length !== 2) this.fail(`${name}[${i}]`, 'not a [key, seq] pair')
      const key = toHex(this.checkBytes(`${name}[${i}]`, entry[0], PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES))
      if (vv.has(key)) this.fail(`${name}[${i}]`, 'duplicate key')
      vv.set(key, this.checkUint(`${name}[${i}]`, entry[1], UINT_MAX))
    })
    return vv
  }

  private checkBytes(name: string, value: unknown, bytesMax: number, bytesExact?: number): Uint8Array {
    if (!(value instanceof Uint8Array)) this.fail(name, 'not a byte string')
    if (value.byteLength > bytesMax) this.fail(name, `longer than ${bytesMax} bytes`)
    if (bytesExact !== undefined && value.byteLength !== bytesExact)
      this.fail(name, `not ${bytesExact} bytes`)
    return value
  }

  private checkUint(name: string, value: unknown, max: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.fail(name, 'not an unsigned integer')
    }
    if (value > max) this.fail(name, `greater than ${max}`)
    return value
  }
}

/** A version vector as it travels: sorted by key so equal vectors encode to equal bytes. */
export function encodeVersionVector(vv: VersionVector): Array<[Uint8Array, number]> {
  return [...vv.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, seq]) => [fromHex(key), seq])
}
