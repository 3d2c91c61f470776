// Generates test/fixtures/format-v1/ once: records covering every op type, their ids, the fixed
// key seeds that signed them, and one blob manifest. The fixtures pin the on-disk and wire format:
// fixtures.test.ts checks that they keep decoding and verifying byte for byte. Never regenerate
// them to make a test pass; a format change is a new FORMAT_VERSION and a new fixture directory.
//
//   npx tsc -b packages/log && node packages/log/test/make-fixtures.mjs [--force]
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { encode } from 'cborg'
import {
  BLOB_CHUNK_BYTES,
  FORMAT_VERSION,
  KeyPair,
  MANIFEST_DOMAIN,
  genesisFsId,
  sha256,
  signRecord,
  toHex
} from '../dist/index.js'

const OUT = fileURLToPath(new URL('../../../test/fixtures/format-v1/', import.meta.url))
if (existsSync(OUT) && !process.argv.includes('--force')) {
  console.error(`${OUT} exists; fixtures are generated once (use --force only for a new format)`)
  process.exit(1)
}

const text = (s) => new TextEncoder().encode(s)
const seedOf = (label) => sha256(text(`ivyfs format-v1 fixture ${label}`))
const inoOf = (label) => sha256(text(`ino ${label}`)).slice(0, 16)
const creator = KeyPair.fromSeed(seedOf('creator'))
const member = KeyPair.fromSeed(seedOf('member'))
const descriptor = {
  creator: creator.publicKey,
  timeMs: 1_700_000_000_000,
  nonce: seedOf('nonce').slice(0, 16),
  lockMode: 'strict'
}
const fsId = genesisFsId(descriptor)
const root = inoOf('root')
const file = inoOf('file')
const T = 1_700_000_000_000

const plan = [
  [
    creator,
    [
      { type: 'genesis', descriptor, root },
      { type: 'inode', ino: root, kind: 'dir', mode: 0o40755, uid: 0, gid: 0 }
    ],
    []
  ],
  [
    creator,
    [
      { type: 'inode', ino: file, kind: 'file', mode: 0o100644, uid: 1000, gid: 1000 },
      { type: 'write', ino: file, offset: 0, length: 5, inline: text('hello') },
      { type: 'write', ino: file, offset: 5, length: 2 * BLOB_CHUNK_BYTES + 1, blob: sha256(text('blob')) },
      {
        type: 'setattrs',
        ino: file,
        size: 4096,
        mode: 0o100600,
        uid: 1,
        gid: 2,
        atimeMs: T + 1,
        mtimeMs: T + 2
      },
      { type: 'setattrs', ino: file, mtimeMs: T + 3 },
      { type: 'link', dir: root, name: 'hello.txt', ino: file },
      {
        type: 'inode',
        ino: inoOf('symlink'),
        kind: 'symlink',
        mode: 0o120777,
        uid: 0,
        gid: 0,
        target: 'hello.txt'
      },
      { type: 'inode', ino: inoOf('fifo'), kind: 'fifo', mode: 0o10644, uid: 0, gid: 0 }
    ],
    []
  ],
  [
    member,
    [
      { type: 'ack' },
      { type: 'prepare', dir: root, name: 'lock' },
      { type: 'link', dir: root, name: 'lock', ino: inoOf('lock') }
    ],
    [{ author: creator.publicKey, seq: 1 }]
  ],
  [
    creator,
    [
      { type: 'unlink', dir: root, name: 'lock' },
      { type: 'rename', dir: root, name: 'hello.txt', newDir: root, newName: 'hi.txt' },
      { type: 'rename', dir: root, name: 'hi.txt', newDir: root, newName: 'naïve ✓', noReplace: true },
      { type: 'cancel', seq: 1 },
      { type: 'resolve', conflict: sha256(text('conflict')), choice: sha256(text('choice')) },
      { type: 'resolve', conflict: sha256(text('conflict 2')), choice: new Uint8Array(0) }
    ],
    [{ author: member.publicKey, seq: 0 }]
  ],
  [
    creator,
    [
      { type: 'member', action: 'add', key: member.publicKey },
      { type: 'member', action: 'remove', key: member.publicKey, fromSeq: 1 },
      { type: 'settings', lockMode: 'available' }
    ],
    []
  ]
]

/** Bytes as hex, recursively: the JSON form expected.json pins decoded bodies in. */
function toJson(value) {
  if (value instanceof Uint8Array) return toHex(value)
  if (Array.isArray(value)) return value.map(toJson)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]))
  }
  return value
}

await mkdir(`${OUT}records`, { recursive: true })
const heads = new Map()
const records = []
for (const [index, [keys, ops, vv]] of plan.entries()) {
  const author = toHex(keys.publicKey)
  const head = heads.get(author)
  const seq = head === undefined ? 0 : head.seq + 1
  const record = signRecord(keys, {
    version: FORMAT_VERSION,
    fsId,
    author: keys.publicKey,
    seq,
    prev: head === undefined ? null : head.id,
    vv,
    timeMs: T + 1000 * index,
    ops
  })
  heads.set(author, { seq, id: record.id })
  const name = `records/${String(index).padStart(2, '0')}-${keys === creator ? 'creator' : 'member'}-${seq}.cbor`
  await writeFile(`${OUT}${name}`, record.bytes)
  records.push({ file: name, id: toHex(record.id), author, seq, body: toJson(record.body) })
}

// One blob of 2 chunks + 1 byte: its manifest (the blob id is the manifest's hash).
const blobLength = 2 * BLOB_CHUNK_BYTES + 1
const blob = Uint8Array.from({ length: blobLength }, (_, i) => i % 251)
const chunks = []
for (let offset = 0; offset < blobLength; offset += BLOB_CHUNK_BYTES)
  chunks.push(sha256(blob.subarray(offset, offset + BLOB_CHUNK_BYTES)))
const manifest = new Uint8Array(encode([MANIFEST_DOMAIN, blobLength, chunks]))
await writeFile(`${OUT}blob-manifest.cbor`, manifest)

const expected = {
  formatVersion: FORMAT_VERSION,
  seeds: { creator: toHex(seedOf('creator')), member: toHex(seedOf('member')) },
  fsId: toHex(fsId),
  records,
  blob: {
    content: 'byte i is i % 251',
    length: blobLength,
    id: toHex(sha256(manifest)),
    chunks: chunks.map(toHex),
    manifest: 'blob-manifest.cbor'
  }
}
await writeFile(`${OUT}expected.json`, JSON.stringify(expected, null, 2) + '\n')
console.log(`wrote ${records.length} records and a blob manifest to ${OUT}`)
