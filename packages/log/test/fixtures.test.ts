import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import {
  KeyPair,
  OP_TAGS,
  bytesEqual,
  decodeRecord,
  encodeRecordBody,
  fromHex,
  sha256,
  signRecord,
  toHex,
  type OpType
} from '../src/index.js'
import { TempDirs } from './helpers.js'

const DIR = new URL('../../../test/fixtures/format-v1/', import.meta.url)
/** Op types given a tag after the fixtures were generated (tags are append-only within format 1). */
const APPENDED_OP_TYPES: readonly OpType[] = ['exchange']

interface Expected {
  formatVersion: number
  seeds: { creator: string; member: string }
  fsId: string
  records: { file: string; id: string; author: string; seq: number; body: unknown }[]
  blob: { length: number; id: string; chunks: string[]; manifest: string }
}

const expected = JSON.parse(await readFile(new URL('expected.json', DIR), 'utf8')) as Expected
const files = await Promise.all(
  expected.records.map(async (r) => new Uint8Array(await readFile(fileURLToPath(new URL(r.file, DIR)))))
)

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

/** Bytes as hex, recursively (the JSON form of expected.json). */
function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value)
  if (Array.isArray(value)) return value.map(toJson)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]))
  }
  return value
}

describe('format-v1 fixtures', () => {
  test('every record decodes, verifies and has its recorded id and body', () => {
    // Goal: records written by version 1 stay readable, with the same meaning, forever.
    expected.records.forEach((record, i) => {
      const decoded = decodeRecord(files[i]!, { verify: true })
      expect(toHex(decoded.id)).toBe(record.id)
      expect(toHex(decoded.body.author)).toBe(record.author)
      expect(decoded.body.seq).toBe(record.seq)
      expect(toJson(decoded.body)).toEqual(record.body)
    })
  })

  test('re-encoding and re-signing reproduce the bytes exactly', () => {
    // Goal: the encoding is deterministic: today's encoder writes version 1 byte for byte.
    const keys = new Map(
      [expected.seeds.creator, expected.seeds.member].map((seed) => {
        const pair = KeyPair.fromSeed(fromHex(seed))
        return [toHex(pair.publicKey), pair] as const
      })
    )
    files.forEach((bytes, i) => {
      const decoded = decodeRecord(bytes)
      expect(bytesEqual(sha256(encodeRecordBody(decoded.body)), decoded.id)).toBe(true)
      const again = signRecord(keys.get(toHex(decoded.body.author))!, decoded.body)
      expect(bytesEqual(again.bytes, bytes), expected.records[i]!.file).toBe(true)
    })
  })

  test('the fixtures hold every op type but those appended after them', () => {
    // Goal: no op codec goes unpinned: the fixtures pin the first ones, op-codec.test.ts pins
    // the bytes of the appended ones (and of the appended inode kinds).
    const types = new Set(files.flatMap((bytes) => decodeRecord(bytes).body.ops.map((op) => op.type)))
    const fixed = (Object.keys(OP_TAGS) as OpType[]).filter((type) => !APPENDED_OP_TYPES.includes(type))
    expect([...types].sort()).toEqual(fixed.sort())
  })

  test('a store ingests them in order, all stored', async () => {
    // Goal: the fixtures are a valid history (prev chains, vv dependencies, genesis).
    const store = await temp.open({ fsId: fromHex(expected.fsId), keys: KeyPair.generate() })
    for (const bytes of files) expect((await store.ingest(bytes)).status).toBe('stored')
    expect(store.authors()).toHaveLength(2)
  })

  test('the blob manifest hashes to the blob id and lists the chunk ids', async () => {
    // Goal: the manifest format of version 1 is pinned too.
    const manifest = new Uint8Array(await readFile(fileURLToPath(new URL(expected.blob.manifest, DIR))))
    expect(toHex(sha256(manifest))).toBe(expected.blob.id)
    const store = await temp.open({ fsId: fromHex(expected.fsId), keys: KeyPair.generate() })
    const blob = Uint8Array.from({ length: expected.blob.length }, (_, i) => i % 251)
    expect(toHex(await store.blobs.put(blob))).toBe(expected.blob.id)
    expect((await store.blobs.missing(fromHex(expected.blob.id), expected.blob.length)).map(toHex)).toEqual(
      []
    )
    expect(expected.blob.chunks).toHaveLength(3)
  })
})
