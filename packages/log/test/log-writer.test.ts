import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { openDatabase, type Database, type Sublevels } from '../src/database.js'
import { loadHeads } from '../src/load-state.js'
import type { AuthorHead } from '../src/layout.js'
import { LogWriter } from '../src/log-writer.js'
import { toHex, type Op, type SignedRecord } from '../src/index.js'
import { ino, testFs } from './helpers.js'

const fs = testFs()
let dir = ''
let db: Database
let sub: Sublevels

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivyfs-log-writer-'))
  ;({ db, sub } = await openDatabase(join(dir, 'db'), fs.fsId))
})

afterEach(async () => {
  await db.close()
  await rm(dir, { recursive: true, force: true })
})

/** A writer over `db` whose batches go through `batch` (to count or fail them). */
function writer(
  batch: Database['batch'],
  heads = new Map<string, AuthorHead>()
): { writer: LogWriter; announced: SignedRecord[] } {
  const announced: SignedRecord[] = []
  const faulty = new Proxy(db, { get: (target, key) => (key === 'batch' ? batch : Reflect.get(target, key)) })
  return {
    announced,
    writer: new LogWriter({
      db: faulty,
      sub,
      keys: fs.creator,
      fsId: fs.fsId,
      isMember: () => true,
      heads,
      forkKeys: new Map(),
      readId: async () => {
        throw new Error('not used')
      },
      committed: (records) => announced.push(...records)
    })
  }
}

const link = (name: string): Op => ({ type: 'link', dir: fs.root, name, ino: ino(name) })

test('concurrent appends share one synced batch', async () => {
  // Goal: group commit: many waiting appends cost one fsync.
  const syncs: boolean[] = []
  const { writer: w } = writer((async (operations: never, options: { sync?: boolean }) => {
    syncs.push(options.sync === true)
    return db.batch(operations, options)
  }) as unknown as Database['batch'])
  await Promise.all(Array.from({ length: 50 }, async (_, i) => w.append([link(`g${i}`)], i)))
  expect(syncs).toEqual([true])
})

test('a failed batch rejects its group, changes nothing, and the next group succeeds', async () => {
  // Goal: a storage failure mid-commit leaves memory and disk as they were.
  let fail = true
  const heads = new Map<string, AuthorHead>()
  const { writer: w, announced } = writer(
    (async (operations: never, options: object) => {
      if (fail) throw new Error('disk full')
      return db.batch(operations, options)
    }) as unknown as Database['batch'],
    heads
  )
  const failed = await Promise.allSettled([w.append(fs.genesisOps, 1), w.append([link('a')], 2)])
  expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  expect(heads.size).toBe(0)
  expect(announced).toEqual([])
  expect((await loadHeads(sub)).size).toBe(0)
  fail = false
  const record = await w.append(fs.genesisOps, 3)
  expect(record.body.seq).toBe(0)
  expect(heads.get(toHex(fs.creator.publicKey))?.length).toBe(1)
  expect(announced.map((r) => r.body.seq)).toEqual([0])
  expect((await loadHeads(sub)).get(toHex(fs.creator.publicKey))?.headId).toEqual(record.id)
})
