/**
 * Readers for the positional fields of decoded CBOR: each returns a typed value or throws the
 * typed error that names the field. Fixed sizes are structure (MalformedRecordError); limits
 * that a bigger value could exceed are LimitExceededError.
 */
import { UINT_MAX } from './constants.js'
import { LimitExceededError, MalformedRecordError } from './errors.js'

const utf8 = new TextEncoder()

export function readArray(value: unknown, field: string, length?: number): unknown[] {
  if (!Array.isArray(value)) throw new MalformedRecordError(field, 'expected an array')
  if (length !== undefined && value.length !== length) {
    throw new MalformedRecordError(field, `expected ${length} elements, got ${value.length}`)
  }
  return value as unknown[]
}

/** A non-negative integer no larger than max (default: the exact integer range). */
export function readUint(value: unknown, field: string, max: number = UINT_MAX, limit?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new MalformedRecordError(field, 'expected a non-negative integer')
  }
  if (value > max) {
    if (limit !== undefined) throw new LimitExceededError(limit, value, max)
    throw new MalformedRecordError(field, `expected at most ${max}`)
  }
  return value
}

/** A byte string of exactly `length` bytes (a copy, not a view into the input). */
export function readBytes(value: unknown, field: string, length: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new MalformedRecordError(field, 'expected a byte string')
  if (value.byteLength !== length) throw new MalformedRecordError(field, `expected ${length} bytes`)
  return new Uint8Array(value)
}

export function readBytesUpTo(value: unknown, field: string, max: number, limit: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new MalformedRecordError(field, 'expected a byte string')
  if (value.byteLength > max) throw new LimitExceededError(limit, value.byteLength, max)
  return new Uint8Array(value)
}

/** A text string of at most maxBytes UTF-8 bytes. */
export function readText(value: unknown, field: string, maxBytes: number, limit: string): string {
  if (typeof value !== 'string') throw new MalformedRecordError(field, 'expected a text string')
  const bytes = utf8.encode(value).byteLength
  if (bytes > maxBytes) throw new LimitExceededError(limit, bytes, maxBytes)
  return value
}

export function readBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new MalformedRecordError(field, 'expected a boolean')
  return value
}

/** CBOR null stands for an absent optional field. */
export function readOptional<T>(value: unknown, read: (value: unknown) => T): T | undefined {
  return value === null ? undefined : read(value)
}

/** A small integer code mapped to one of `names` (its index). */
export function readCode<T extends string>(value: unknown, field: string, names: readonly T[]): T {
  const code = readUint(value, field)
  const name = names[code]
  if (name === undefined) throw new MalformedRecordError(field, `unknown code ${code}`)
  return name
}
