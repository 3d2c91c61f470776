import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { LogWriter } from '../src/log-writer.js'
import { openPackDirectory } from '../src/pack-file.js'
import { closeStoreParts, openStoreParts, type StoreParts } from '../src/store-open.js'
import { toHex, type Op, type SignedRecord } from '../src/index.js'
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

/** A writer over the store parts, recording what it announces. */
function writer(): { writer: LogWriter; announced: SignedRecord[] } {
  const announced: SignedRecord[] = []
  return {
    announced,
    writer: new LogWriter({
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
      committed: (records) => announced.push(...records)
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
