import { decode, encode } from 'cborg'
import { describe, expect, test } from 'vitest'
import {
  FORMAT_VERSION,
  OPS_PER_RECORD_MAX,
  RECORD_BYTES_MAX,
  RecordError,
  VERSION_ENTRIES_MAX,
  bytesEqual,
  decodeRecord,
  encodeRecordBody,
  genesisFsId,
  sha256,
  signRecord,
  verifySignature,
  type RecordBody,
  type SignedRecord
} from '../src/index.js'
import { encodeEnvelope } from '../src/record-codec.js'
import { entry, makeRecord, sampleOps, seededKeys, testFs } from './helpers.js'

const fs = testFs()
const member = seededKeys('member')
const other = seededKeys('other')

function genesisRecord(): SignedRecord {
  return makeRecord(fs.creator, { fsId: fs.fsId, seq: 0, ops: sampleOps(fs) })
}

/** Re-wraps a hand-made body value as a signed record, bypassing signRecord's checks. */
function rawRecord(body: unknown[], keys = member): Uint8Array {
  const bodyBytes = encode(body)
  return encode([bodyBytes, keys.sign(bodyBytes)])
}

function rawBody(overrides: Record<number, unknown> = {}): unknown[] {
  const body: unknown[] = [
    FORMAT_VERSION,
    fs.fsId,
    member.publicKey,
    1,
    sha256(Uint8Array.of(0)),
    [],
    5,
    [[9]]
  ]
  for (const [index, value] of Object.entries(overrides)) body[Number(index)] = value
  return body
}

function expectRefused(bytes: Uint8Array, name: string): void {
  expect(() => decodeRecord(bytes)).toThrow(expect.objectContaining({ name }))
}

describe('record encoding', () => {
  test('a signed record decodes to the same body, id, signature and bytes', () => {
    // Goal: the codec round-trips every op type inside a real record.
    const record = genesisRecord()
    const decoded = decodeRecord(record.bytes)
    expect(decoded).toEqual(record)
    expect(decoded.id).toEqual(sha256(encodeRecordBody(decoded.body)))
  })

  test('the record is [body bytes, signature] and the signature covers exactly the body bytes', () => {
    // Goal: the byte layout of docs/FORMAT.md: signing input = body bytes, id = their SHA-256.
    const record = genesisRecord()
    const [bodyBytes, signature] = decode(record.bytes) as [Uint8Array, Uint8Array]
    expect(bodyBytes).toEqual(encodeRecordBody(record.body))
    expect(verifySignature(fs.creator.publicKey, bodyBytes, signature)).toBe(true)
    expect(record.id).toEqual(sha256(bodyBytes))
    expect(record.bytes[0]).toBe(0x82)
    expect(bodyBytes[0]).toBe(0x88)
    expect(bodyBytes[1]).toBe(FORMAT_VERSION)
  })

  test('the same body always encodes to the same bytes', () => {
    // Goal: determinism: Ed25519 is deterministic and so is the encoding.
    const a = genesisRecord()
    const b = genesisRecord()
    expect(bytesEqual(a.bytes, b.bytes)).toBe(true)
  })

  test('version vector entries are encoded as sorted [author, seq] pairs', () => {
    // Goal: the vv delta rule (sorted by author bytes, never the author).
    const [low, high] = [member, other].sort((x, y) => (x.publicKey[0]! < y.publicKey[0]! ? -1 : 1))
    const record = makeRecord(fs.creator, { fsId: fs.fsId, seq: 0, vv: [entry(low!, 3), entry(high!, 0)] })
    expect(decodeRecord(record.bytes).body.vv).toEqual([entry(low!, 3), entry(high!, 0)])
    expect(() =>
      makeRecord(fs.creator, { fsId: fs.fsId, seq: 0, vv: [entry(high!, 0), entry(low!, 3)] })
    ).toThrow(expect.objectContaining({ name: 'InvalidVersionVectorError' }))
    expect(() => makeRecord(fs.creator, { fsId: fs.fsId, seq: 0, vv: [entry(fs.creator, 0)] })).toThrow(
      expect.objectContaining({ name: 'InvalidVersionVectorError' })
    )
    expect(() =>
      makeRecord(fs.creator, { fsId: fs.fsId, seq: 0, vv: [entry(low!, 1), entry(low!, 2)] })
    ).toThrow(expect.objectContaining({ name: 'InvalidVersionVectorError' }))
  })
})

describe('record decoding refuses', () => {
  test('every truncation with TruncatedRecordError', () => {
    // Goal: a cut-off record at any length is named as such, never half-read.
    const bytes = makeRecord(member, { fsId: fs.fsId, seq: 0 }).bytes
    for (let length = 0; length < bytes.byteLength; length++)
      expectRefused(bytes.subarray(0, length), 'TruncatedRecordError')
  })

  test('every single flipped bit with a RecordError', () => {
    // Goal: no corruption anywhere is accepted, and each is a typed refusal (never a crash).
    const bytes = makeRecord(member, { fsId: fs.fsId, seq: 0 }).bytes
    const names = new Set<string>()
    for (let bit = 0; bit < bytes.byteLength * 8; bit++) {
      const flipped = bytes.slice()
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      try {
        decodeRecord(flipped)
        throw new Error(`bit ${bit} was accepted`)
      } catch (err) {
        expect(err).toBeInstanceOf(RecordError)
        names.add((err as Error).name)
      }
    }
    expect(names).toContain('InvalidSignatureError')
    expect(names).toContain('MalformedRecordError')
  })

  test('a signature by another key with InvalidSignatureError', () => {
    // Goal: only the author can write its log.
    expectRefused(rawRecord(rawBody(), other), 'InvalidSignatureError')
  })

  test('an unknown format version with UnsupportedFormatVersionError, whatever follows', () => {
    // Goal: a newer format is named, not misread as malformed.
    expectRefused(rawRecord(rawBody({ 0: 2 })), 'UnsupportedFormatVersionError')
    expectRefused(rawRecord([2, 'anything']), 'UnsupportedFormatVersionError')
    expectRefused(rawRecord([0]), 'UnsupportedFormatVersionError')
  })

  test('an unknown op type with UnknownOpTypeError', () => {
    // Goal: ops this code cannot apply are refused by name.
    expectRefused(rawRecord(rawBody({ 7: [[9], [42, 'future']] })), 'UnknownOpTypeError')
  })

  test('non-canonical CBOR with NonCanonicalRecordError', () => {
    // Goal: exactly one byte string per record: no long-form integers, floats for ints, or bad UTF-8.
    const bodyBytes = encode(rawBody())
    const longSeq = Uint8Array.from(bodyBytes)
    const seqAt = 1 + 1 + 34 + 34 // array head, version, fsId (2+32), author (2+32)
    expect(longSeq[seqAt]).toBe(0x01)
    const widened = new Uint8Array([
      ...longSeq.subarray(0, seqAt),
      0x18,
      0x01,
      ...longSeq.subarray(seqAt + 1)
    ])
    expectRefused(encode([widened, member.sign(widened)]), 'NonCanonicalRecordError')
    const floatTime = encode(rawBody({ 6: 5.5 }))
    expectRefused(encode([floatTime, member.sign(floatTime)]), 'MalformedRecordError')
    // timeMs 5 written as the float64 5.0: decodes to the number 5, re-encodes as the integer.
    const parts = rawBody().map((field) => encode(field))
    parts[6] = Uint8Array.of(0xfb, 0x40, 0x14, 0, 0, 0, 0, 0, 0)
    const asFloat = Uint8Array.from([0x88, ...parts.flatMap((part) => [...part])])
    expect((decode(asFloat) as unknown[])[6]).toBe(5)
    expectRefused(encode([asFloat, member.sign(asFloat)]), 'NonCanonicalRecordError')
    const badUtf8 = encode(rawBody({ 7: [[5, new Uint8Array(16), 'ab']] }))
    const patched = Uint8Array.from(badUtf8)
    patched[patched.byteLength - 1] = 0xff
    expectRefused(encode([patched, member.sign(patched)]), 'NonCanonicalRecordError')
  })

  test('indefinite lengths, undefined, tags, maps and trailing bytes with a RecordError', () => {
    // Goal: the strict decoder options are on.
    const good = makeRecord(member, { fsId: fs.fsId, seq: 0 }).bytes
    const indefinite = Uint8Array.from([0x9f, ...good.subarray(1), 0xff])
    expectRefused(indefinite, 'MalformedRecordError')
    expectRefused(Uint8Array.of(0xf7), 'MalformedRecordError')
    expectRefused(encode({ body: 1 }), 'MalformedRecordError')
    expectRefused(Uint8Array.from([0xc2, 0x41, 0x01]), 'MalformedRecordError')
    expectRefused(Uint8Array.from([...good, 0x00]), 'MalformedRecordError')
    expectRefused(rawRecord(rawBody({ 5: { a: 1 } })), 'MalformedRecordError')
  })

  test('structural errors with MalformedRecordError', () => {
    // Goal: wrong arity, field sizes and the prev rule are all refused.
    expectRefused(rawRecord(rawBody({ 1: new Uint8Array(31) })), 'MalformedRecordError')
    expectRefused(rawRecord([...rawBody(), 0]), 'MalformedRecordError')
    expectRefused(rawRecord(rawBody({ 3: 0 })), 'MalformedRecordError')
    expectRefused(rawRecord(rawBody({ 4: null })), 'MalformedRecordError')
    expectRefused(rawRecord(rawBody({ 7: [] })), 'MalformedRecordError')
    expectRefused(rawRecord(rawBody({ 3: -1 })), 'MalformedRecordError')
    expectRefused(encode([encode(rawBody()), new Uint8Array(63)]), 'MalformedRecordError')
    expectRefused(encode(['body', new Uint8Array(64)]), 'MalformedRecordError')
  })

  test('oversize records with RecordTooLargeError, and limits with LimitExceededError', () => {
    // Goal: RECORD_BYTES_MAX, OPS_PER_RECORD_MAX and VERSION_ENTRIES_MAX are enforced.
    expectRefused(new Uint8Array(RECORD_BYTES_MAX + 1), 'RecordTooLargeError')
    const manyOps = Array.from({ length: OPS_PER_RECORD_MAX + 1 }, () => [9])
    expectRefused(rawRecord(rawBody({ 7: manyOps })), 'LimitExceededError')
    const manyEntries = Array.from({ length: VERSION_ENTRIES_MAX + 1 }, (_, i) => [
      sha256(Uint8Array.of(i >> 8, i)),
      0
    ])
    expectRefused(rawRecord(rawBody({ 5: manyEntries })), 'LimitExceededError')
    const big = Array.from({ length: 1100 }, () => ({
      type: 'inode' as const,
      ino: new Uint8Array(16),
      kind: 'symlink' as const,
      mode: 0,
      uid: 0,
      gid: 0,
      target: 't'.repeat(1000)
    }))
    expect(() => makeRecord(member, { fsId: fs.fsId, seq: 0, ops: big })).toThrow(
      expect.objectContaining({ name: 'RecordTooLargeError' })
    )
  })
})

describe('genesis', () => {
  test('the fs id is the hash of the descriptor and changes with every field', () => {
    // Goal: the fs id is self-certifying and commits to the whole descriptor.
    const base = fs.descriptor
    const ids = [
      genesisFsId(base),
      genesisFsId({ ...base, creator: member.publicKey }),
      genesisFsId({ ...base, timeMs: base.timeMs + 1 }),
      genesisFsId({ ...base, nonce: new Uint8Array(16) }),
      genesisFsId({ ...base, lockMode: 'available' })
    ]
    expect(new Set(ids.map((id) => Buffer.from(id).toString('hex'))).size).toBe(5)
    expect(genesisFsId(base)).toEqual(fs.fsId)
  })

  test('a genesis op must certify the fs id, name its author, and open seq 0', () => {
    // Goal: nobody can claim to have created a filesystem they did not create.
    const body = (overrides: Partial<RecordBody>): RecordBody => ({
      version: FORMAT_VERSION,
      fsId: fs.fsId,
      author: fs.creator.publicKey,
      seq: 0,
      prev: null,
      vv: [],
      timeMs: 1,
      ops: fs.genesisOps,
      ...overrides
    })
    const refuse = (keys: typeof member, overrides: Partial<RecordBody>): void => {
      expect(() => signRecord(keys, body(overrides))).toThrow(
        expect.objectContaining({ name: 'InvalidGenesisError' })
      )
    }
    expect(() => signRecord(fs.creator, body({}))).not.toThrow()
    refuse(fs.creator, { fsId: sha256(Uint8Array.of(1)) })
    refuse(member, { author: member.publicKey })
    refuse(fs.creator, { seq: 1, prev: sha256(Uint8Array.of(1)) })
    refuse(fs.creator, { ops: [{ type: 'ack' }, ...fs.genesisOps] })
  })
})

describe('a record kept between two decodes', () => {
  test('the second decode of the same bytes reuses the first and still checks the signature', () => {
    // Goal: the network decodes a peer's record once (keep) and the store's ingest decodes the
    // same array again; that second decode must not redo the work, and must never skip the
    // signature check that the first one left out.
    const good = makeRecord(member, { fsId: fs.fsId, seq: 0 }).bytes
    const first = decodeRecord(good, { verify: false, keep: true })
    expect(decodeRecord(good)).toBe(first)
    // Taken once: a third decode starts afresh and gives an equal, separate record.
    const third = decodeRecord(good)
    expect(third).not.toBe(first)
    expect(third.id).toEqual(first.id)

    const forged = rawRecord(rawBody(), other)
    expect(decodeRecord(forged, { verify: false, keep: true }).body.seq).toBe(1)
    expectRefused(forged, 'InvalidSignatureError')
    expectRefused(forged, 'InvalidSignatureError')
  })

  test('a kept record stays what was decoded, even if the array is changed afterwards', () => {
    // Goal: what the store receives is always self-consistent: the record's own bytes, verified.
    const bytes = makeRecord(member, { fsId: fs.fsId, seq: 0 }).bytes.slice()
    const original = bytes.slice()
    decodeRecord(bytes, { verify: false, keep: true })
    bytes.fill(0)
    const record = decodeRecord(bytes)
    expect(record.bytes).toEqual(original)
    expect(bytesEqual(record.id, decodeRecord(original).id)).toBe(true)
  })
})

describe('the record envelope', () => {
  test('is written byte for byte as the canonical CBOR of [body, signature], at every head size', () => {
    // Goal: the hand-written envelope never drifts from the codec's canonical encoding.
    const signature = new Uint8Array(64).fill(9)
    for (const length of [0, 1, 23, 24, 255, 256, 65_535, 65_536, 300_000]) {
      const body = new Uint8Array(length).fill(length & 0xff)
      expect(encodeEnvelope(body, signature)).toEqual(new Uint8Array(encode([body, signature])))
    }
  })
})
