/**
 * Records on disk and on the wire. The body is a CBOR array of 8 positional fields; its canonical
 * bytes are what the author signs and what the record id hashes. A record is the CBOR array
 * [body bytes, signature]. Layout byte by byte: docs/FORMAT.md.
 */
import type { GenesisDescriptor, Hash, RecordBody, SignedRecord, VersionEntry } from './types.js'
import {
  FORMAT_VERSION,
  HASH_BYTES,
  OPS_PER_RECORD_MAX,
  PUBLIC_KEY_BYTES,
  RECORD_BYTES_MAX,
  SIGNATURE_BYTES,
  VERSION_ENTRIES_MAX
} from './constants.js'
import {
  InvalidGenesisError,
  InvalidSignatureError,
  InvalidVersionVectorError,
  LimitExceededError,
  MalformedRecordError,
  NonCanonicalRecordError,
  RecordTooLargeError,
  TruncatedRecordError,
  UnsupportedFormatVersionError
} from './errors.js'
import { bytesEqual, compareBytes, copyBytes, sha256, toHex } from './bytes.js'
import { decodeStrictOnly, encodeCanonical } from './cbor.js'
import { readArray, readBytes, readUint } from './fields.js'
import { decodeOp, encodeGenesisDescriptor, encodeOp } from './op-codec.js'
import { verifySignature, type KeyPair } from './keys.js'

/** Domain separation for fs ids: a genesis hash can never equal a record id or a blob id. */
const GENESIS_DOMAIN = 'ivyfs/genesis/v1'
const BODY_FIELDS = 8

export interface DecodeRecordInit {
  /** Check the signature (default true). Off only for bytes this process already verified. */
  verify?: boolean
  /**
   * The caller will hand these very bytes (the same array, unmodified) to the log store next, as
   * the network does with a record from a peer: keep what was decoded, so that the store's ingest
   * only checks the signature (if not already checked) instead of decoding everything again.
   * The next decodeRecord of the same array takes it (once). What is kept is self-consistent even
   * if the array were changed afterwards: the record holds its own copy of the bytes it came from.
   */
  keep?: boolean
}

interface Kept {
  record: SignedRecord
  bodyBytes: Uint8Array
  verified: boolean
}
/** Decoded records awaiting their next decode (see DecodeRecordInit.keep); weak: never a leak. */
const kept = new WeakMap<Uint8Array, Kept>()

/** The canonical bytes of a body: what is signed and what the record id is the hash of. */
export function encodeRecordBody(body: RecordBody): Uint8Array {
  return encodeCanonical([
    body.version,
    body.fsId,
    body.author,
    body.seq,
    body.prev,
    body.vv.map((entry) => [entry.author, entry.seq]),
    body.timeMs,
    body.ops.map(encodeOp)
  ])
}

/** The self-certifying fs id: SHA-256 of the domain-separated genesis descriptor. */
export function genesisFsId(descriptor: GenesisDescriptor): Hash {
  return sha256(encodeCanonical([GENESIS_DOMAIN, ...encodeGenesisDescriptor(descriptor)]))
}

/**
 * Signs a body. The body goes through the same checks as a peer's record first (typed errors),
 * so this peer never signs a record that others would refuse.
 */
export function signRecord(keys: KeyPair, body: RecordBody): SignedRecord {
  const bodyBytes = encodeRecordBody(body)
  const checked = decodeBody(bodyBytes)
  const signature = keys.sign(bodyBytes)
  const bytes = encodeEnvelope(bodyBytes, signature)
  if (bytes.byteLength > RECORD_BYTES_MAX) throw new RecordTooLargeError(bytes.byteLength, RECORD_BYTES_MAX)
  return { body: checked, signature, id: sha256(bodyBytes), bytes }
}

/**
 * The canonical CBOR of [body bytes, signature], written directly: an array head, two byte
 * strings with minimal-length heads. Byte-identical to encodeCanonical of the same array (a test
 * pins it), without cborg's token pass over a body of up to a megabyte.
 */
export function encodeEnvelope(bodyBytes: Uint8Array, signature: Uint8Array): Uint8Array {
  const bodyHead = byteStringHead(bodyBytes.byteLength)
  const signatureHead = byteStringHead(signature.byteLength)
  const out = new Uint8Array(
    1 + bodyHead.byteLength + bodyBytes.byteLength + signatureHead.byteLength + signature.byteLength
  )
  out[0] = 0x82 // array of 2
  let offset = 1
  for (const part of [bodyHead, bodyBytes, signatureHead, signature]) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/** Head of a CBOR byte string (major type 2) of `length` bytes, in its shortest form. */
function byteStringHead(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 + length)
  if (length < 0x100) return Uint8Array.of(0x58, length)
  if (length < 0x10000) return Uint8Array.of(0x59, length >>> 8, length & 0xff)
  return Uint8Array.of(0x5a, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff)
}

/** Decodes and checks a record's bytes; throws a RecordError subclass for anything wrong. */
export function decodeRecord(bytes: Uint8Array, init: DecodeRecordInit = {}): SignedRecord {
  const earlier = kept.get(bytes)
  if (earlier !== undefined) {
    kept.delete(bytes)
    return checked(earlier.record, earlier.bodyBytes, earlier.verified, bytes, init)
  }
  if (bytes.byteLength > RECORD_BYTES_MAX) throw new RecordTooLargeError(bytes.byteLength, RECORD_BYTES_MAX)
  // [body bytes, signature]: strict decoding admits exactly one encoding of two byte strings.
  const [bodyField, signatureField] = readArray(decodeStrict(bytes, 'record'), 'record', 2)
  if (!(bodyField instanceof Uint8Array))
    throw new MalformedRecordError('record.body', 'expected a byte string')
  const bodyBytes = copyBytes(bodyField)
  const signature = readBytes(signatureField, 'record.signature', SIGNATURE_BYTES)
  const body = decodeBody(bodyBytes)
  const record = { body, signature, id: sha256(bodyBytes), bytes: copyBytes(bytes) }
  return checked(record, bodyBytes, false, bytes, init)
}

/** Verifies the signature unless told not to (or done before), and keeps the result if asked. */
function checked(
  record: SignedRecord,
  bodyBytes: Uint8Array,
  verifiedBefore: boolean,
  bytes: Uint8Array,
  init: DecodeRecordInit
): SignedRecord {
  let verified = verifiedBefore
  if (init.verify !== false && !verified) {
    if (!verifySignature(record.body.author, bodyBytes, record.signature))
      throw new InvalidSignatureError(toHex(record.body.author))
    verified = true
  }
  if (init.keep === true) kept.set(bytes, { record, bodyBytes, verified })
  return record
}

/** Decodes and checks a body's canonical bytes (no signature involved). */
export function decodeBody(bodyBytes: Uint8Array): RecordBody {
  // Decoded strictly but not re-encoded generically: the comparison with encodeRecordBody at the
  // end is the one-encoding check (it covers the CBOR and the record's own rules at once).
  const fields = readArray(decodeStrict(bodyBytes, 'body'), 'body')
  if (fields[0] !== FORMAT_VERSION) throw new UnsupportedFormatVersionError(fields[0], FORMAT_VERSION)
  const [, fsId, author, seq, prev, vv, timeMs, ops] = readArray(fields, 'body', BODY_FIELDS)
  const body: RecordBody = {
    version: FORMAT_VERSION,
    fsId: readBytes(fsId, 'body.fsId', HASH_BYTES),
    author: readBytes(author, 'body.author', PUBLIC_KEY_BYTES),
    seq: readUint(seq, 'body.seq'),
    prev: null,
    vv: [],
    timeMs: readUint(timeMs, 'body.timeMs'),
    ops: []
  }
  if (body.seq === 0 && prev !== null) throw new MalformedRecordError('body.prev', 'seq 0 has no prev')
  if (body.seq > 0) body.prev = readBytes(prev, 'body.prev', HASH_BYTES)
  body.vv = decodeVersionEntries(vv, body.author)
  const opList = readArray(ops, 'body.ops')
  if (opList.length === 0) throw new MalformedRecordError('body.ops', 'a record holds at least one op')
  if (opList.length > OPS_PER_RECORD_MAX) {
    throw new LimitExceededError('OPS_PER_RECORD_MAX', opList.length, OPS_PER_RECORD_MAX)
  }
  body.ops = opList.map((op, index) => decodeOp(op, index))
  checkGenesis(body)
  if (!bytesEqual(encodeRecordBody(body), bodyBytes)) throw new NonCanonicalRecordError('body')
  return body
}

function decodeVersionEntries(value: unknown, author: Uint8Array): VersionEntry[] {
  const list = readArray(value, 'body.vv')
  if (list.length > VERSION_ENTRIES_MAX) {
    throw new LimitExceededError('VERSION_ENTRIES_MAX', list.length, VERSION_ENTRIES_MAX)
  }
  const entries = list.map((item, index): VersionEntry => {
    const [entryAuthor, entrySeq] = readArray(item, `body.vv[${index}]`, 2)
    return {
      author: readBytes(entryAuthor, `body.vv[${index}].author`, PUBLIC_KEY_BYTES),
      seq: readUint(entrySeq, `body.vv[${index}].seq`)
    }
  })
  let previous: VersionEntry | undefined
  for (const [index, entry] of entries.entries()) {
    if (bytesEqual(entry.author, author))
      throw new InvalidVersionVectorError('names the record author', { index })
    if (previous !== undefined && compareBytes(previous.author, entry.author) >= 0) {
      throw new InvalidVersionVectorError('entries are not strictly sorted by author bytes', { index })
    }
    previous = entry
  }
  return entries
}

/** A genesis op is the first op of its creator's seq 0, and it certifies the record's fs id. */
function checkGenesis(body: RecordBody): void {
  body.ops.forEach((op, index) => {
    if (op.type !== 'genesis') return
    if (index !== 0 || body.seq !== 0) throw new InvalidGenesisError('genesis is only the first op of seq 0')
    if (!bytesEqual(op.descriptor.creator, body.author)) {
      throw new InvalidGenesisError('the descriptor creator is not the record author')
    }
    if (!bytesEqual(genesisFsId(op.descriptor), body.fsId)) {
      throw new InvalidGenesisError('the fs id is not the hash of the descriptor')
    }
  })
}

function decodeStrict(bytes: Uint8Array, part: string): unknown {
  const result = decodeStrictOnly(bytes)
  if (result.ok) return result.value
  if (result.failure === 'truncated') throw new TruncatedRecordError(result.detail)
  if (result.failure === 'noncanonical') throw new NonCanonicalRecordError(part)
  throw new MalformedRecordError(part, result.detail)
}
