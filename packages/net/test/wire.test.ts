import { afterEach, describe, expect, test } from 'vitest'
import { streamPair } from '@libp2p/utils'
import { encode } from 'cborg'
import { BLOB_CHUNK_BYTES, LogStore, WRITE_BYTES_MAX, toHex } from '@ivyfs/log'
import {
  FRAME_BYTES_MAX,
  FrameReader,
  FrameTooLargeError,
  InvalidTicketError,
  MalformedMessageError,
  TruncatedFrameError,
  decodeBlobRequest,
  decodeJoinResponse,
  decodeReplicateMessage,
  decodeTicket,
  encodeBlobRequest,
  encodeFrame,
  encodeReplicateMessage,
  encodeTicket,
  manifestBytesLength,
  missingChunkRefs,
  blobChunkRefs,
  type Ticket
} from '../src/index.js'
import { decodeBase32, encodeBase32 } from '../src/ticket.js'
import { Harness, pseudoRandomBytes, seededKeys, testFs } from './helpers.js'

const harness = new Harness()
afterEach(async () => harness.cleanup())

describe('frames', () => {
  test('frames split across and packed into network chunks come out whole and in order', async () => {
    // Goal: the reader reassembles frames whatever the chunking of the byte stream.
    const [outbound, inbound] = await streamPair()
    const reader = new FrameReader(inbound)
    const payloads = [pseudoRandomBytes(10, 1), pseudoRandomBytes(100_000, 2), pseudoRandomBytes(1, 3)]
    const bytes = new Uint8Array(payloads.reduce((sum, p) => sum + 4 + p.byteLength, 0))
    let offset = 0
    for (const payload of payloads) {
      bytes.set(encodeFrame(payload), offset)
      offset += 4 + payload.byteLength
    }
    for (let start = 0; start < bytes.byteLength; start += 7777)
      outbound.send(bytes.subarray(start, start + 7777))
    await outbound.close()
    for (const payload of payloads) expect(await reader.next()).toEqual(payload)
    expect(await reader.next()).toBeNull()
  })

  test('an oversized length is refused from the header alone', async () => {
    // Goal: a peer cannot make us buffer a frame beyond the limit.
    const [outbound, inbound] = await streamPair()
    const reader = new FrameReader(inbound)
    const header = new Uint8Array(4)
    new DataView(header.buffer).setUint32(0, FRAME_BYTES_MAX + 1)
    outbound.send(header)
    await expect(reader.next()).rejects.toBeInstanceOf(FrameTooLargeError)
    expect(() => encodeFrame(new Uint8Array(FRAME_BYTES_MAX + 1))).toThrow(FrameTooLargeError)
  })

  test('a stream that ends inside a frame is a truncated frame', async () => {
    // Goal: a half-sent frame is an error, never a short message.
    const [outbound, inbound] = await streamPair()
    const reader = new FrameReader(inbound)
    outbound.send(encodeFrame(pseudoRandomBytes(50, 4)).subarray(0, 30))
    await outbound.close()
    await expect(reader.next()).rejects.toBeInstanceOf(TruncatedFrameError)
  })

  test('a read can be bounded in time', async () => {
    // Goal: handshakes cannot hang on a silent peer.
    const [, inbound] = await streamPair()
    const reader = new FrameReader(inbound)
    await expect(reader.next(AbortSignal.timeout(20))).rejects.toMatchObject({ name: 'TimeoutError' })
  })
})

describe('messages', () => {
  test('replicate messages round-trip', () => {
    // Goal: every message type decodes to what was encoded.
    const vv = new Map([[toHex(seededKeys('a').publicKey), 4]])
    const messages = [
      { t: 'hello', version: 1, fsId: new Uint8Array(32).fill(1), vv },
      { t: 'have', vv, reset: true },
      { t: 'rec', bytes: pseudoRandomBytes(300, 5) },
      { t: 'chunk', id: new Uint8Array(32).fill(2), bytes: pseudoRandomBytes(BLOB_CHUNK_BYTES, 6) },
      { t: 'bye', reason: 'node stopping' }
    ] as const
    for (const message of messages)
      expect(decodeReplicateMessage(encodeReplicateMessage(message))).toEqual(message)
  })

  test.each([
    ['not CBOR', new Uint8Array([0xff, 0x00, 0x13])],
    ['not a map', encode([1, 2, 3])],
    ['an unknown type', encode({ t: 'gossip' })],
    ['a short fs id', encode({ t: 'hello', v: 1, fs: new Uint8Array(31), vv: [] })],
    [
      'a duplicate vv key',
      encode({
        t: 'have',
        reset: false,
        vv: [
          [new Uint8Array(32), 1],
          [new Uint8Array(32), 2]
        ]
      })
    ],
    ['a negative seq', encode({ t: 'have', reset: false, vv: [[new Uint8Array(32), -1]] })],
    [
      'an oversized chunk',
      encode({ t: 'chunk', id: new Uint8Array(32), b: new Uint8Array(BLOB_CHUNK_BYTES + 1) })
    ],
    ['trailing bytes', new Uint8Array([...encode({ t: 'bye', reason: 'x' }), 0])],
    ['deep nesting', new Uint8Array([0xa1, 0x61, 0x74, ...new Array<number>(100_000).fill(0x81), 0x00])]
  ])('a replicate message with %s is malformed', (_, bytes) => {
    // Goal: every shape error is one typed error, never a crash or a half-decoded message.
    expect(() => decodeReplicateMessage(bytes)).toThrow(MalformedMessageError)
  })

  test('blob and join messages are bounded and typed', () => {
    // Goal: request lengths and refusal reasons are checked on decode.
    const chunks = [{ id: new Uint8Array(32).fill(3), length: 10 }]
    expect(decodeBlobRequest(encodeBlobRequest({ t: 'get', chunks }))).toEqual({ t: 'get', chunks })
    expect(() =>
      decodeBlobRequest(encode({ t: 'get', chunks: new Array(65).fill([new Uint8Array(32), 1]) }))
    ).toThrow(MalformedMessageError)
    expect(() =>
      decodeBlobRequest(encode({ t: 'get', chunks: [[new Uint8Array(32), BLOB_CHUNK_BYTES + 1]] }))
    ).toThrow(MalformedMessageError)
    expect(() => decodeJoinResponse(encode({ t: 'refused', reason: 'because' }))).toThrow(
      MalformedMessageError
    )
  })
})

describe('tickets', () => {
  const ticket: Ticket = {
    fsId: new Uint8Array(32).fill(7),
    inviter: seededKeys('inviter').publicKey,
    addresses: ['/ip4/192.168.1.10/tcp/4001', '/ip6/::1/tcp/4001'],
    secret: new Uint8Array(32).fill(9),
    expiresMs: 1_800_000_000_000
  }

  test('a ticket round-trips through its compact text form', () => {
    // Goal: what `ivy invite` prints is what `ivy join` reads, case-insensitively and trimmed.
    const text = encodeTicket(ticket)
    expect(text).toMatch(/^ivy1-[a-z2-7]+$/)
    expect(text.length).toBeLessThan(400)
    expect(decodeTicket(text)).toEqual(ticket)
    expect(decodeTicket(`  ${text.toUpperCase().replace('IVY1-', 'ivy1-')}\n`)).toEqual(ticket)
  })

  test.each([
    ['a wrong prefix', 'ivy2-aaaa'],
    ['non-base32 characters', 'ivy1-abc!'],
    ['a truncated body', () => encodeTicket(ticket).slice(0, 60)],
    ['an empty body', 'ivy1-']
  ])('a ticket with %s is invalid', (_, text) => {
    // Goal: a mistyped ticket fails with one typed error.
    expect(() => decodeTicket(typeof text === 'function' ? text() : text)).toThrow(InvalidTicketError)
  })

  test('base32 is canonical', () => {
    // Goal: each byte string has exactly one text form.
    for (const length of [0, 1, 2, 3, 4, 5, 31, 32, 33]) {
      const bytes = pseudoRandomBytes(length, length + 1)
      expect(decodeBase32(encodeBase32(bytes))).toEqual(bytes)
    }
    expect(() => decodeBase32('ab')).toThrow(InvalidTicketError)
  })
})

describe('blob chunks', () => {
  test('the manifest size and chunk list match what the log store writes', async () => {
    // Goal: pins net's reading of manifests to the log's encoding (fails loudly if it changes).
    const keys = seededKeys('a')
    const { store } = await harness.openStore(testFs(keys), keys)
    for (const length of [BLOB_CHUNK_BYTES + 1, 23 * BLOB_CHUNK_BYTES, 300 * BLOB_CHUNK_BYTES + 5]) {
      const data = pseudoRandomBytes(length, length)
      const id = await store.blobs.put(data)
      const refs = await blobChunkRefs(store.blobs, { id, length })
      expect(refs[0]).toEqual({ id, length: manifestBytesLength(length) })
      expect(refs).toHaveLength(1 + Math.ceil(length / BLOB_CHUNK_BYTES))
      expect(await missingChunkRefs(store.blobs, { id, length })).toEqual([])
    }
    expect(manifestBytesLength(WRITE_BYTES_MAX)).toBeLessThanOrEqual(BLOB_CHUNK_BYTES)
    expect(store).toBeInstanceOf(LogStore)
  })
})
