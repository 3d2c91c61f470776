/**
 * The one place that touches cborg. Encoding is cborg's deterministic form; decoding is strict
 * (minimal integers and lengths, no indefinite lengths, no undefined/NaN/Infinity, no big
 * integers, no tags, no duplicate map keys) and then re-encodes the value and compares bytes, so
 * that exactly one byte string decodes to any given value.
 */
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { bytesEqual } from './bytes.js'

const DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  useMaps: false
} as const

/** cborg reports running out of input with these phrases (pinned by the codec tests). */
const TRUNCATION = /not enough data|not enough entries|did not find any content/

export type DecodeFailure = 'truncated' | 'malformed' | 'noncanonical'
export type DecodeResult =
  { ok: true; value: unknown } | { ok: false; failure: DecodeFailure; detail: string }

/**
 * Always a fresh plain Uint8Array: in Node cborg returns a Buffer that may be a view into a
 * shared pool, and Buffer#slice does not copy; callers keep and slice these bytes freely.
 */
export function encodeCanonical(value: unknown): Uint8Array {
  return new Uint8Array(encode(value, rfc8949EncodeOptions))
}

export function decodeCanonical(bytes: Uint8Array): DecodeResult {
  const decoded = decodeStrictOnly(bytes)
  if (!decoded.ok) return decoded
  const value = decoded.value
  let again: Uint8Array
  try {
    again = encodeCanonical(value)
  } catch (err) {
    return { ok: false, failure: 'malformed', detail: err instanceof Error ? err.message : String(err) }
  }
  if (!bytesEqual(again, bytes))
    return { ok: false, failure: 'noncanonical', detail: 'bytes differ on re-encoding' }
  return { ok: true, value }
}

/**
 * The strict decode alone, without re-encoding to compare. Only for callers that establish the
 * one-encoding property themselves, more cheaply than a generic re-encode: a record's envelope
 * (two byte strings, where strict decoding already rejects every other encoding) and a record
 * body (record-codec re-encodes the decoded body with its own encoder and compares).
 */
export function decodeStrictOnly(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, value: decode(bytes, DECODE_OPTIONS) }
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err)
    if (TRUNCATION.test(detail)) return { ok: false, failure: 'truncated', detail }
    if (/strict decode/.test(detail)) return { ok: false, failure: 'noncanonical', detail }
    return { ok: false, failure: 'malformed', detail }
  }
}
