import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { putChunks, type BlobPut } from '../src/blob-io.js'
import { withComponents } from '../src/log-store.js'
import { openPackDirectory } from '../src/pack-file.js'
import { BLOB_CHUNK_BYTES, BLOB_SLICE_BYTES, LogStore, bytesEqual } from '../src/index.js'
import { FaultyPackDirectory } from './faulty-packs.js'
import { TempDirs, testFs } from './helpers.js'

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

const fs = testFs()

/** Runs `body` and returns the rejections Node reported as unhandled meanwhile (and just after). */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = []
  const listener = (reason: unknown): void => void unhandled.push(reason)
  process.on('unhandledRejection', listener)
  try {
    await body()
    // Node reports an unhandled rejection once the microtasks of the turn have run.
    await new Promise((resolve) => setTimeout(resolve, 20))
  } finally {
    process.off('unhandledRejection', listener)
  }
  return unhandled
}

test('a slice write that fails at once leaves no unhandled rejection, and no later slice is queued', async () => {
  // Goal: the daemon treats an unhandled rejection as fatal, so a full disk under a blob put must
  // reach the caller as the put's own rejection and nowhere else.
  const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
  let slices = 0
  const writeDurably = async (puts: BlobPut[]): Promise<void> => {
    slices += puts.length > 0 ? 1 : 0
    throw full // rejects before putChunks awaits anything
  }
  const data = new Uint8Array(3 * BLOB_SLICE_BYTES)
  const unhandled = await unhandledDuring(async () => {
    await expect(putChunks(data, writeDurably)).rejects.toBe(full)
  })
  expect(unhandled).toEqual([])
  expect(slices).toBe(1)
})

test('a slice that fails after later slices were queued: those settle first, the failure is rethrown', async () => {
  // Goal: putChunks never returns while one of its writes is still running.
  const settled: number[] = []
  let slice = 0
  const writeDurably = async (): Promise<void> => {
    const mine = slice++
    await new Promise((resolve) => setTimeout(resolve, mine === 0 ? 30 : 1))
    settled.push(mine)
    if (mine === 0) throw new Error('slice 0 failed')
  }
  await expect(putChunks(new Uint8Array(2 * BLOB_SLICE_BYTES), writeDurably)).rejects.toThrow('slice 0')
  expect(settled.sort()).toEqual([0, 1])
})

test('a blob put on a full disk fails with ENOSPC, alone, and the next put works', async () => {
  // Goal: the reproduction (test/soak/repro/enospc-log-store.mjs medium) at unit scale: a blob of
  // one slice, written on the blocking small-commit path, whose pack write fails with ENOSPC.
  let faulty: FaultyPackDirectory | undefined
  const init = withComponents(
    { path: join(await temp.dir(), 'db'), fsId: fs.fsId, keys: fs.creator },
    { packDirectory: (dir) => (faulty = new FaultyPackDirectory(openPackDirectory(dir))) }
  )
  const store = await LogStore.open(init)
  await store.append(fs.genesisOps)
  const blob = new Uint8Array(randomBytes(BLOB_CHUNK_BYTES + 40_000))
  faulty!.failureCode = 'ENOSPC'
  faulty!.writeFailures = 1
  const unhandled = await unhandledDuring(async () => {
    await expect(store.blobs.put(blob)).rejects.toMatchObject({ code: 'ENOSPC' })
  })
  expect(unhandled).toEqual([])
  const id = await store.blobs.put(blob)
  expect(bytesEqual(await store.blobs.get(id, blob.byteLength), blob)).toBe(true)
  await store.close()
})

test('putChunks adds the extra put to the last slice only, made from every chunk id', async () => {
  // Goal: a one-slice blob and its manifest are one commit (no lone small manifest commit).
  const writes: BlobPut[][] = []
  const data = new Uint8Array(randomBytes(BLOB_SLICE_BYTES + 3 * BLOB_CHUNK_BYTES))
  let seen = 0
  const ids = await putChunks(
    data,
    async (puts) => void writes.push(puts),
    false,
    (all) => {
      seen = all.length
      return { key: 'manifest', value: new Uint8Array(1) }
    }
  )
  expect(ids.length).toBe(BLOB_SLICE_BYTES / BLOB_CHUNK_BYTES + 3)
  expect(seen).toBe(ids.length)
  expect(writes.map((puts) => puts.length)).toEqual([BLOB_SLICE_BYTES / BLOB_CHUNK_BYTES, 4])
  expect(writes[1]!.at(-1)!.key).toBe('manifest')
})
