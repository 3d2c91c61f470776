import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encode } from 'cborg'
import { afterEach, describe, expect, test } from 'vitest'
import { KeyPair, LogStore } from '@ivyfs/log'
import { Filesystem, NS_PER_MS, SNAPSHOT_CHUNK_ITEMS, View } from '../src/index.js'
import { CorruptSnapshotError } from '../src/snapshot-binary.js'
import { SNAPSHOT_FORMAT } from '../src/snapshot-codec.js'
import { SnapshotDecoder } from '../src/snapshot-decode.js'
import { readSnapshotFile, writeSnapshotFile } from '../src/snapshot-file.js'
import { decodeChunks, snapshotOf } from './helpers/snapshot-restart.js'
import { closeAll, makePeers, syncAll } from './helpers/sim.js'
import { rngFor, runWorkload } from './helpers/workload.js'
import { treeHash } from '../src/tree-hash.js'
import { conflictIndexHash } from '../src/conflicts.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A view of three simulated participants after a seeded random workload (conflicts included). */
async function workedView(seed: number): Promise<View> {
  const rng = rngFor(seed)
  const sims = await makePeers(['p0', 'p1', 'p2'], { lockMode: 'available' })
  const peers = sims.map((peer) => ({
    name: peer.name,
    fs: peer.fs,
    records: async () => peer.log.records(),
    holds: (r: { body: { author: Uint8Array; seq: number } }) => peer.log.length(r.body.author) > r.body.seq,
    ready: (r: Parameters<typeof peer.log.ready>[0]) => peer.log.ready(r),
    ingest: async (r: Parameters<typeof peer.log.ingest>[0]) => void peer.log.ingest(r)
  }))
  await runWorkload(peers, rng, { steps: 60, exchange: 0.3 })
  syncAll(sims)
  const view = new View()
  view.ingestMany(sims[0]!.log.records())
  await closeAll(sims)
  return view
}

describe('snapshot format', () => {
  test('decoding then encoding again gives the same bytes, whatever the chunk size', async () => {
    // Goal: the decoder rebuilds exactly what was encoded (tables, order, every field).
    for (const seed of [1, 2, 3]) {
      const view = await workedView(seed)
      const chunks = snapshotOf(view, 5)
      expect(chunks.length).toBeGreaterThan(1)
      const again = snapshotOf(decodeChunks(chunks), 5)
      expect(Buffer.concat(again).equals(Buffer.concat(chunks)), `seed ${seed}`).toBe(true)
      const viaOneChunk = snapshotOf(decodeChunks(snapshotOf(view, 1000)), 5)
      expect(Buffer.concat(viaOneChunk).equals(Buffer.concat(chunks)), `seed ${seed}`).toBe(true)
      const loaded = decodeChunks(chunks)
      expect(treeHash(loaded.state)).toBe(view.withStableState((state) => treeHash(state)))
      expect(conflictIndexHash(loaded.state)).toBe(view.withStableState((state) => conflictIndexHash(state)))
    }
  })

  test('a truncated or altered chunk fails with CorruptSnapshotError, never a wrong tree', async () => {
    // Goal: every read is checked; a bad snapshot is refused, not half-loaded.
    const view = await workedView(4)
    const chunks = snapshotOf(view, 1_000_000)
    const bytes = chunks[0] as Uint8Array
    const decodeOne = (chunk: Uint8Array): void => {
      const decoder = new SnapshotDecoder()
      decoder.add(chunk)
      decoder.finish()
    }
    expect(() => decodeOne(bytes.subarray(0, bytes.byteLength - 3))).toThrow(CorruptSnapshotError)
    expect(() => decodeOne(Uint8Array.of(99))).toThrow(CorruptSnapshotError)
    expect(() => decodeOne(new Uint8Array(0))).toThrow(CorruptSnapshotError) // no meta item
    let refused = 0
    const rng = rngFor(5)
    for (let i = 0; i < 200; i++) {
      const altered = bytes.slice()
      altered[Math.floor(rng() * altered.byteLength)] ^= 1 + Math.floor(rng() * 255)
      try {
        decodeOne(altered)
      } catch (error) {
        expect(error).toBeInstanceOf(CorruptSnapshotError)
        refused++
      }
    }
    // Flipped bytes inside file data or times decode to another valid snapshot; structure does not.
    expect(refused).toBeGreaterThan(0)
  })

  test('time remainders round-trip; an older format cannot hold one; one of NS_PER_MS is corrupt', async () => {
    // Goal: format 4 carries the nanoseconds past each atime and mtime; a format without them
    // refuses to drop one silently, and a remainder out of range is never loaded.
    const [peer] = await makePeers(['p0'], { lockMode: 'available' })
    await peer!.fs.create('/f')
    const times = { atimeMs: 1, atimeSubMsNs: 1, mtimeMs: 2, mtimeSubMsNs: NS_PER_MS - 1 }
    const { ino } = await peer!.fs.setattr('/f', times)
    const view = new View()
    view.ingestMany(peer!.log.records())
    await closeAll([peer!])
    expect(decodeChunks(snapshotOf(view, 3)).state.inode(ino)).toMatchObject(times)
    expect(() => snapshotOf(view, 1000, 3)).toThrow(RangeError)
    view.state.inode(ino)!.mtimeSubMsNs = NS_PER_MS
    expect(() => decodeChunks(snapshotOf(view, 1000))).toThrow(/time remainder out of range/)
  })
})

describe('opening over a bad or old snapshot', () => {
  async function closedFilesystem(extra?: (fs: Filesystem) => Promise<unknown>): Promise<{
    path: string
    keys: KeyPair
    fsId: Uint8Array
    hash: string
    conflicts: string
  }> {
    const path = await mkdtemp(join(tmpdir(), 'ivyfs-fs-snapshot-codec-'))
    dirs.push(path)
    const keys = KeyPair.generate()
    const fs = await Filesystem.create({ path, keys, lockMode: 'strict' })
    for (let i = 0; i < 20; i++) {
      await fs.create(`/f${i}`)
      await fs.write(`/f${i}`, 0, new TextEncoder().encode(`file ${i}`))
    }
    await fs.mkdir('/d')
    await fs.rename('/f0', '/d/f0')
    await extra?.(fs)
    const hash = fs.treeHash()
    const conflicts = fs.conflictIndexHash()
    const fsId = (fs.log as LogStore).fsId
    await fs.close()
    return { path, keys, fsId, hash, conflicts }
  }

  async function withStore(
    closed: { path: string; keys: KeyPair; fsId: Uint8Array },
    use: (store: LogStore) => Promise<void>
  ): Promise<void> {
    const store = await LogStore.open({ path: closed.path, fsId: closed.fsId, keys: closed.keys })
    await use(store)
    await store.close()
  }

  const snapshotPath = (closed: { path: string }): string => join(closed.path, 'fs-snapshot', 'snapshot')

  test.each([
    ['a chunk with a flipped byte', (bytes: Buffer) => (bytes[bytes.byteLength - 5] ^= 0x40)],
    ['a truncated file', (bytes: Buffer) => bytes.subarray(0, bytes.byteLength - 9)],
    ['a file that is not a snapshot', (bytes: Buffer) => bytes.fill(7, 0, 8)]
  ])('a corrupt snapshot (%s) is reported and the logs are replayed instead', async (_, damage) => {
    // Goal: a snapshot is derived data; a bad one costs a replay, never the filesystem.
    const closed = await closedFilesystem()
    const bytes = await readFile(snapshotPath(closed))
    const damaged = damage(bytes)
    await writeFile(snapshotPath(closed), typeof damaged === 'number' ? bytes : damaged)
    const fs = await Filesystem.open(closed)
    expect(fs.openReport.snapshot).toBe('corrupt')
    expect(fs.openReport.problem).toMatch(/snapshot/)
    expect(fs.openReport.recordsApplied).toBeGreaterThan(20)
    expect(fs.treeHash()).toBe(closed.hash)
    expect(fs.conflictIndexHash()).toBe(closed.conflicts)
    await fs.close() // writes a good snapshot again
    const reopened = await Filesystem.open(closed)
    expect(reopened.openReport.snapshot).toBe('loaded')
    expect(reopened.openReport.recordsApplied).toBe(0)
    expect(reopened.treeHash()).toBe(closed.hash)
    await reopened.close()
  })

  /** Rewrites the snapshot file in an older `format`: what a peer that knew only that one wrote. */
  async function rewriteIn(closed: { path: string }, format: number): Promise<void> {
    const directory = join(closed.path, 'fs-snapshot')
    const chunks: Uint8Array[] = []
    const head = await readSnapshotFile(directory, [SNAPSHOT_FORMAT], (chunk) => chunks.push(chunk.slice()))
    expect(head?.format).toBe(SNAPSHOT_FORMAT)
    const state = decodeChunks(chunks)
    // Formats before 5 cannot hold delegations (older code never made any): drop them here.
    for (const inode of state.state.inodes.values())
      (inode as { delegate: string | undefined }).delegate = undefined
    const older = snapshotOf(state, SNAPSHOT_CHUNK_ITEMS, format)
    const stableRecords = head!.stableRecords
    await writeSnapshotFile(directory, { format, chunks: older.length, stableRecords }, older)
  }

  /** Rewrites the format number in the snapshot file's header (bytes 8–11, little-endian). */
  async function setFormat(closed: { path: string }, format: number): Promise<number> {
    const bytes = await readFile(snapshotPath(closed))
    const written = bytes.readUInt32LE(8)
    bytes.writeUInt32LE(format, 8)
    await writeFile(snapshotPath(closed), bytes)
    return written
  }

  test('snapshots are written in format 5 and carry nanosecond times and delegates across a restart', async () => {
    // Goal: the remainders utimensat set, and each directory's delegate (which every member must
    // agree on), survive a restart from the snapshot alone.
    const times = { atimeMs: Date.UTC(2001, 1, 3), atimeSubMsNs: 123_456, mtimeMs: 5, mtimeSubMsNs: 999_999 }
    let delegate: string | undefined
    const closed = await closedFilesystem(async (fs) => {
      await fs.setattr('/f1', times)
      await fs.mkdir('/owned')
      delegate = fs.view.state.inode((await fs.getattr('/owned')).ino)?.delegate
    })
    expect(delegate).toBeDefined()
    expect((await readFile(snapshotPath(closed))).readUInt32LE(8)).toBe(5)
    const fs = await Filesystem.open(closed)
    expect(fs.openReport).toEqual({ snapshot: 'loaded', recordsApplied: 0 })
    expect(await fs.getattr('/f1')).toMatchObject(times)
    expect(fs.view.state.inode((await fs.getattr('/owned')).ino)?.delegate).toBe(delegate)
    await fs.close()
  })

  test.each([2, 3, 4])('a format-%i snapshot still loads, its times without remainders', async (format) => {
    // Goal: formats 3 and 4 only add codes and fields: older files are read as they are (times
    // with remainder 0), so an upgrade does not replay the logs.
    const closed = await closedFilesystem((fs) => fs.setattr('/f1', { atimeMs: 4, mtimeMs: 5 }))
    await rewriteIn(closed, format)
    const fs = await Filesystem.open(closed)
    expect(fs.openReport).toEqual({ snapshot: 'loaded', recordsApplied: 0 })
    expect(fs.treeHash()).toBe(closed.hash)
    expect(fs.conflictIndexHash()).toBe(closed.conflicts)
    const attr = await fs.getattr('/f1')
    expect(attr).toMatchObject({ atimeMs: 4, mtimeMs: 5, atimeSubMsNs: 0, mtimeSubMsNs: 0 })
    await fs.close()
  })

  test.each([
    ['a device node', (fs: Filesystem) => fs.mknod('/dev', 'chardev', 0o600, 0x0501), /inode kind/],
    ['an exchanged entry', (fs: Filesystem) => fs.rename('/f1', '/f2', { exchange: true }), /entry cause/]
  ])(
    'a format-2 snapshot holding %s (format 3 only) is corrupt; the logs are replayed',
    async (_, extra, problem) => {
      // Goal: format 2 has no code for them: such a file is refused, never misread.
      const closed = await closedFilesystem(extra)
      await rewriteIn(closed, 3)
      await setFormat(closed, 2)
      const fs = await Filesystem.open(closed)
      expect(fs.openReport.snapshot).toBe('corrupt')
      expect(fs.openReport.problem).toMatch(problem)
      expect(fs.treeHash()).toBe(closed.hash)
      expect(fs.conflictIndexHash()).toBe(closed.conflicts)
      await fs.close()
    }
  )

  test('a snapshot of the older format (LevelDB values) is ignored, replaced and removed', async () => {
    // Goal: an upgrade replays the logs once, writes the snapshot file and drops the old values.
    const closed = await closedFilesystem()
    await rm(snapshotPath(closed))
    await withStore(closed, async (store) => {
      const sublevel = store.sublevel('fs-snapshot')
      await sublevel.put('head', encode({ format: 1, generation: 7, chunks: { meta: 1 }, stableRecords: 3 }))
      await sublevel.put('g7/meta/00000000', encode([['x']]))
    })
    const fs = await Filesystem.open(closed)
    expect(fs.openReport.snapshot).toBe('none')
    expect(fs.treeHash()).toBe(closed.hash)
    await fs.close()
    await withStore(closed, async (store) => {
      expect(await store.sublevel('fs-snapshot').keys().all()).toEqual([])
    })
    const reopened = await Filesystem.open(closed)
    expect(reopened.openReport.snapshot).toBe('loaded')
    expect(reopened.treeHash()).toBe(closed.hash)
    await reopened.close()
  })
})

describe('the snapshot file', () => {
  test('a write that fails midway leaves the previous snapshot whole and no temporary file', async () => {
    // Goal: replacing a snapshot is atomic (temporary file, sync, rename); a failure (a full
    // disk, here a chunk that cannot be written) changes nothing on disk.
    const directory = await mkdtemp(join(tmpdir(), 'ivyfs-fs-snapshot-file-'))
    dirs.push(directory)
    const head = { format: 2, chunks: 2, stableRecords: 7 }
    await writeSnapshotFile(directory, head, [Uint8Array.of(1, 2, 3), Uint8Array.of(4)])
    const before = await readFile(join(directory, 'snapshot'))
    const bad = [Uint8Array.of(9), 'not bytes' as unknown as Uint8Array]
    await expect(writeSnapshotFile(directory, { ...head, stableRecords: 8 }, bad)).rejects.toThrow()
    expect((await readFile(join(directory, 'snapshot'))).equals(before)).toBe(true)
    expect(await readdir(directory)).toEqual(['snapshot'])
    const chunks: number[][] = []
    const read = await readSnapshotFile(directory, [2], (chunk) => chunks.push([...chunk]))
    expect(read).toEqual(head)
    expect(chunks).toEqual([[1, 2, 3], [4]])
  })
})
