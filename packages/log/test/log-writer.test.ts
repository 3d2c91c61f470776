import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { LogWriter } from '../src/log-writer.js'
import { openPackDirectory } from '../src/pack-file.js'
import { closeStoreParts, openStoreParts, type StoreParts } from '../src/store-open.js'
import { DURABILITY_WINDOW_MS, toHex, type Op, type SignedRecord } from '../src/index.js'
import { FaultyPackDirectory } from './faulty-packs.js'
import { ino, testFs } from './helpers.js'

const fs = testFs()
let dir = ''
let faulty: FaultyPackDirectory
let parts: StoreParts

async function open(): Promise<StoreParts> {
  return openStoreParts(join(dir, 'db'), fs.fsId, {
    packDirectory: (path) => (faulty = new FaultyPackDirectory(openPackDirectory(path)))
  })
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivyfs-log-writer-'))
  parts = await open()
})

afterEach(async () => {
  await closeStoreParts(parts)
  await rm(dir, { recursive: true, force: true })
})

interface Announced {
  writer: LogWriter
  /** Records announced as written, and as durable. */
  announced: SignedRecord[]
  durable: SignedRecord[]
}

/** A writer over the store parts, recording what it announces. */
function writer(nowMs?: () => number): Announced {
  const announced: SignedRecord[] = []
  const durable: SignedRecord[] = []
  return {
    announced,
    durable,
    writer: new LogWriter({
      ...(nowMs && { nowMs }),
      sub: parts.sub,
      packs: parts.packs,
      index: parts.index,
      records: parts.records,
      keys: fs.creator,
      fsId: fs.fsId,
      isMember: () => true,
      heads: parts.heads,
      forkKeys: parts.forkKeys,
      readId: async (authorHex, seq) => parts.records.readId(authorHex, seq),
      written: (records) => announced.push(...records),
      durable: (records) => durable.push(...records)
    })
  }
}

const link = (name: string): Op => ({ type: 'link', dir: fs.root, name, ino: ino(name) })

test('concurrent appends share one pack write and one flush', async () => {
  // Goal: group commit: many waiting appends cost one write and one fdatasync.
  const { writer: w } = writer()
  const before = { writes: faulty.writes, flushes: faulty.flushes }
  await Promise.all(Array.from({ length: 50 }, async (_, i) => w.append([link(`g${i}`)], i)))
  expect({ writes: faulty.writes - before.writes, flushes: faulty.flushes - before.flushes }).toEqual({
    writes: 1,
    flushes: 1
  })
})

test('a failed write rejects its group, changes nothing, and the next group succeeds', async () => {
  // Goal: a storage failure mid-commit leaves memory and disk as they were.
  const { writer: w, announced } = writer()
  faulty.writeFailures = 1
  const failed = await Promise.allSettled([w.append(fs.genesisOps, 1), w.append([link('a')], 2)])
  expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  expect(parts.heads.size).toBe(0)
  expect(announced).toEqual([])
  faulty.syncFailures = 1
  await expect(w.append(fs.genesisOps, 1)).rejects.toMatchObject({ name: 'InjectedFault' })
  expect(parts.heads.size).toBe(0)
  const record = await w.append(fs.genesisOps, 3)
  expect(record.body.seq).toBe(0)
  expect(parts.heads.get(toHex(fs.creator.publicKey))?.length).toBe(1)
  expect(announced.map((r) => r.body.seq)).toEqual([0])
  await closeStoreParts(parts)
  parts = await open()
  expect(parts.heads.get(toHex(fs.creator.publicKey))).toMatchObject({ length: 1, headId: record.id })
  expect((await parts.records.readId(toHex(fs.creator.publicKey), 0)).byteLength).toBe(32)
})

test('a lazy append is written at once and announced as durable only after its flush', async () => {
  // Goal: close's group commit: the caller does not wait for fdatasync, and nothing a peer may be
  // sent (the durable announcement) precedes the flush that makes it durable.
  const { writer: w, announced, durable } = writer()
  await w.append(fs.genesisOps, 1)
  const flushes = faulty.flushes
  const record = await w.append([link('lazy')], 2, false)
  expect(announced.map((r) => r.body.seq)).toEqual([0, 1])
  expect(durable.map((r) => r.body.seq)).toEqual([0])
  expect(parts.packs.durable).not.toEqual(parts.packs.end)
  await w.idle()
  expect(faulty.flushes).toBe(flushes + 1)
  expect(durable.map((r) => r.body.seq)).toEqual([0, 1])
  expect(parts.packs.durable).toEqual(parts.packs.end)
  await closeStoreParts(parts)
  parts = await open()
  expect(parts.heads.get(toHex(fs.creator.publicKey))).toMatchObject({ length: 2, headId: record.id })
})

test('sync makes every lazy append durable before it resolves', async () => {
  const { writer: w, durable } = writer()
  faulty.syncFailures = 1 // the background flush fails: the records wait, unsent, for a retry
  await w.append(fs.genesisOps, 1, false)
  await w.append([link('a')], 2, false)
  expect(durable).toEqual([])
  await w.sync()
  expect(durable.map((r) => r.body.seq)).toEqual([0, 1])
  expect(parts.packs.durable).toEqual(parts.packs.end)
})

test('past the durability window a lazy append waits for its own flush', async () => {
  // Goal: the window bounds what a power loss can take, even when flushes fall behind.
  let now = 0
  const { writer: w, durable } = writer(() => now)
  faulty.syncFailures = 1
  await w.append(fs.genesisOps, 1, false)
  await expect.poll(() => faulty.flushes).toBe(1) // the failed background flush
  now = DURABILITY_WINDOW_MS
  await w.append([link('late')], 2, false)
  expect(durable.map((r) => r.body.seq)).toEqual([0, 1])
  expect(parts.packs.durable).toEqual(parts.packs.end)
})

test('a failed lazy commit is cut back alone: earlier lazy appends stay and become durable', async () => {
  const { writer: w, durable } = writer()
  await w.append(fs.genesisOps, 1, false)
  faulty.writeFailures = 1
  await expect(w.append([link('lost')], 2, false)).rejects.toMatchObject({ name: 'InjectedFault' })
  const kept = await w.append([link('kept')], 3, false)
  await w.idle()
  expect(durable.map((r) => r.body.seq)).toEqual([0, 1])
  await closeStoreParts(parts)
  parts = await open()
  expect(parts.heads.get(toHex(fs.creator.publicKey))).toMatchObject({ length: 2, headId: kept.id })
})
