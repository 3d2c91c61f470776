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
import { decodeCanonical, encodeCanonical } from './cbor.js'
import { readArray, readBytes, readUint } from './fields.js'
import { decodeOp, encodeGenesisDescriptor, encodeOp } from './op-codec.js'
import { verifySignature, type KeyPair } from './keys.js'

/** Domain separation for fs ids: a genesis hash can never equal a record id or a blob id. */
const GENESIS_DOMAIN = 'ivyfs/genesis/v1'
const BODY_FIELDS = 8

export interface DecodeRecordInit {
  /** Check the signature (default true). Off only for bytes this process already verified. */
  verify?: boolean
}

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
  const bytes = encodeCanonical([bodyBytes, signature])
  if (bytes.byteLength > RECORD_BYTES_MAX) throw new RecordTooLargeError(bytes.byteLength, RECORD_BYTES_MAX)
  return { body: checked, signature, id: sha256(bodyBytes), bytes }
}

/** Decodes and checks a record's bytes; throws a RecordError subclass for anything wrong. */
export function decodeRecord(bytes: Uint8Array, init: DecodeRecordInit = {}): SignedRecord {
  if (bytes.byteLength > RECORD_BYTES_MAX) throw new RecordTooLargeError(bytes.byteLength, RECORD_BYTES_MAX)
  const [bodyField, signatureField] = readArray(decodeStrict(bytes, 'record'), 'record', 2)
  if (!(bodyField instanceof Uint8Array))
    throw new MalformedRecordError('record.body', 'expected a byte string')
  const bodyBytes = copyBytes(bodyField)
  const signature = readBytes(signatureField, 'record.signature', SIGNATURE_BYTES)
  const body = decodeBody(bodyBytes)
  if (init.verify !== false && !verifySignature(body.author, bodyBytes, signature)) {
    throw new InvalidSignatureError(toHex(body.author))
  }
  return { body, signature, id: sha256(bodyBytes), bytes: copyBytes(bytes) }
}

/** Decodes and checks a body's canonical bytes (no signature involved). */
export function decodeBody(bodyBytes: Uint8Array): RecordBody {
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
  const result = decodeCanonical(bytes)
  if (result.ok) return result.value
  if (result.failure === 'truncated') throw new TruncatedRecordError(result.detail)
  if (result.failure === 'noncanonical') throw new NonCanonicalRecordError(part)
  throw new MalformedRecordError(part, result.detail)
}
