import { mkdtemp, rm } from 'node:fs/promises'
import { openSync, closeSync, writeSync, readFileSync, ftruncateSync, statSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { openPackDirectory, packFileName, type PackDirectory } from '../src/pack-file.js'
import { FRAME_HEADER_BYTES, type Frame, type PackPoint, type PackPosition } from '../src/pack-frame.js'
import { PackReader } from '../src/pack-reader.js'
import { scanPacks, type ScannedFrame } from '../src/pack-scan.js'
import { PackWriter, type PackWriterInit } from '../src/pack-writer.js'
import { FaultyPackDirectory } from './faulty-packs.js'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ivyfs-packs-'))
})
afterEach(async () => rm(dir, { recursive: true, force: true }))

const START: PackPoint = { pack: 1, offset: 0 }

function record(label: string, bytes = 100): Frame {
  const payload = new Uint8Array(bytes).fill(0x2e)
  payload.set(new TextEncoder().encode(label))
  payload[label.length] = 0
  return { kind: 'record', parts: [payload] }
}

function labelOf(payload: Uint8Array): string {
  return new TextDecoder().decode(payload.subarray(0, payload.indexOf(0)))
}

async function scanAll(packs: PackDirectory, from = START): Promise<{ labels: string[]; end: PackPoint }> {
  const frames: ScannedFrame[] = []
  const { end } = await scanPacks(packs, from, (frame) =>
    frames.push({ ...frame, payload: frame.payload.slice() })
  )
  return { labels: frames.map((frame) => labelOf(frame.payload)), end }
}

function writer(packs: PackDirectory, end = START, init: PackWriterInit = {}): PackWriter {
  return new PackWriter(packs, end, init)
}

function packPath(number: number): string {
  return join(dir, packFileName(number))
}

/** Flips one byte of a pack file behind the writer's back. */
function flipByte(number: number, offset: number): void {
  const bytes = readFileSync(packPath(number))
  const fd = openSync(packPath(number), 'r+')
  writeSync(fd, Uint8Array.of(bytes[offset]! ^ 0x40), 0, 1, offset)
  closeSync(fd)
}

describe('writing and reading back', () => {
  test('committed frames read back by position and scan back in order', async () => {
    // Goal: the basic contract: positions returned by commit name exactly the frames written.
    const packs = openPackDirectory(dir)
    const w = writer(packs)
    const first = await w.commit([record('a'), record('b', 70_000)], true)
    const second = await w.commit([record('c')], true)
    const reader = new PackReader(packs)
    const reads = await reader.readMany([...first, ...second], 'record')
    expect(reads.map((read) => (read.ok ? labelOf(read.payload) : read.detail))).toEqual(['a', 'b', 'c'])
    expect(await reader.read(first[0]!, 'chunk')).toMatchObject({ ok: false })
    await reader.close()
    await w.close()
    expect(await scanAll(packs)).toEqual({ labels: ['a', 'b', 'c'], end: w.end })
  })

  test('a pack that would overflow is sealed and the log continues in the next pack', async () => {
    // Goal: rolling packs is invisible to readers and to the scan.
    const packs = openPackDirectory(dir)
    const w = writer(packs, START, { packBytesMax: 4096, preallocateBytes: 1024 })
    const positions: PackPosition[] = []
    for (let i = 0; i < 20; i++) positions.push(...(await w.commit([record(`r${i}`, 300)], true)))
    await w.commit([record('big1', 3000), record('big2', 3000)], true)
    await w.close()
    expect(packs.list().length).toBeGreaterThan(3)
    const { labels } = await scanAll(packs)
    expect(labels).toEqual([...Array.from({ length: 20 }, (_, i) => `r${i}`), 'big1', 'big2'])
    const reader = new PackReader(packs)
    expect((await reader.readMany(positions, 'record')).every((read) => read.ok)).toBe(true)
    await reader.close()
  })
})

describe('crash and corruption', () => {
  test('a torn tail is dropped on reopen and the log continues after the last whole frame', async () => {
    // Goal: the hypercore oplog rule: a frame cut short by a crash is not part of the log.
    const packs = openPackDirectory(dir)
    const w = writer(packs)
    await w.commit([record('a')], true)
    const [torn] = await w.commit([record('b', 5000)], true)
    await w.close()
    const fd = openSync(packPath(1), 'r+')
    ftruncateSync(fd, torn!.offset + 2000)
    closeSync(fd)
    const scanned = await scanAll(packs)
    expect(scanned).toEqual({ labels: ['a'], end: { pack: 1, offset: torn!.offset } })
    const again = writer(packs, scanned.end)
    expect(statSync(packPath(1)).size).toBe(torn!.offset)
    await again.commit([record('c', 10)], true)
    await again.close()
    expect((await scanAll(packs)).labels).toEqual(['a', 'c'])
  })

  test('a damaged byte in the last commit drops that commit', async () => {
    // Goal: an unacknowledged commit that reached the disk only in part is indistinguishable from
    // a torn one, and is dropped like it.
    const packs = openPackDirectory(dir)
    const w = writer(packs)
    await w.commit([record('a')], true)
    const [, last] = await w.commit([record('b'), record('c')], true)
    await w.close()
    flipByte(1, last!.offset + FRAME_HEADER_BYTES + 5)
    expect(await scanAll(packs)).toEqual({ labels: ['a', 'b'], end: { pack: 1, offset: last!.offset } })
  })

  test('a damaged byte in an acknowledged commit followed by later commits is CorruptStoreError', async () => {
    // Goal: bit rot in the middle of the log is reported, never silently cut off with what follows.
    const packs = openPackDirectory(dir)
    const w = writer(packs)
    const [first] = await w.commit([record('a'), record('b')], true)
    await w.commit([record('c')], true)
    await w.close()
    flipByte(1, first!.offset + FRAME_HEADER_BYTES + 50)
    await expect(scanAll(packs)).rejects.toMatchObject({ name: 'CorruptStoreError' })
    const reader = new PackReader(packs)
    expect(await reader.read(first!, 'record')).toEqual({ ok: false, detail: 'frame CRC mismatch' })
    await reader.close()
  })

  test('a commit torn across a roll is dropped with the pack it started', async () => {
    // Goal: a seal that never reached the disk ends the log, and the next pack goes with it.
    const packs = openPackDirectory(dir)
    const w = writer(packs, START, { packBytesMax: 4096, preallocateBytes: 1024 })
    const first = await w.commit([record('a', 1800), record('b', 1800)], true)
    const rolled = await w.commit([record('c', 600), record('d', 300)], true)
    await w.close()
    expect(rolled.map((position) => position.pack)).toEqual([2, 2])
    const sealAt = first[1]!.offset + first[1]!.bytes
    truncateSync(packPath(1), sealAt)
    const scanned = await scanAll(packs)
    expect(scanned).toEqual({ labels: ['a', 'b'], end: { pack: 1, offset: sealAt } })
    await writer(packs, scanned.end).close()
    expect(packs.list()).toEqual([1])
  })

  test('a damaged seal with acknowledged commits after it is CorruptStoreError', async () => {
    // Goal: bit rot at the end of a pack never silently drops the packs after it.
    const packs = openPackDirectory(dir)
    const w = writer(packs, START, { packBytesMax: 4096, preallocateBytes: 1024 })
    const first = await w.commit([record('a', 1800), record('b', 1800)], true)
    await w.commit([record('c', 600)], true)
    await w.commit([record('d', 600)], true)
    await w.close()
    flipByte(1, first[1]!.offset + first[1]!.bytes + 12) // the seal's CRC
    await expect(scanAll(packs)).rejects.toMatchObject({ name: 'CorruptStoreError' })
  })

  test('a failed write rejects the commit, leaves nothing behind, and the next commit works', async () => {
    // Goal: STYLE.md pattern 7: a failed write must not corrupt earlier entries or later ones.
    const packs = new FaultyPackDirectory(openPackDirectory(dir))
    const w = writer(packs)
    await w.commit([record('a')], true)
    packs.writeFailures = 1
    await expect(w.commit([record('b')], true)).rejects.toMatchObject({ name: 'InjectedFault' })
    packs.tearNextWriteAt = 30
    await expect(w.commit([record('c'), record('d')], true)).rejects.toMatchObject({ name: 'InjectedFault' })
    packs.syncFailures = 1
    await expect(w.commit([record('e', 300_000)], true)).rejects.toMatchObject({ name: 'InjectedFault' })
    await w.commit([record('f')], true)
    await w.close()
    expect((await scanAll(packs)).labels).toEqual(['a', 'f'])
  })

  test('on a full disk a failed write or flush fails its commit, and commits work again once there is room', async () => {
    // Goal: ENOSPC from a write, a blocking write or an fdatasync is an operating error the
    // writer recovers from by itself: no refusal sticks once the disk takes writes again.
    const packs = new FaultyPackDirectory(openPackDirectory(dir))
    packs.failureCode = 'ENOSPC'
    const w = writer(packs)
    await w.commit([record('a')], true)
    for (const blocking of [false, true]) {
      packs.writeFailures = 1
      await expect(w.commit([record('b')], true, blocking)).rejects.toMatchObject({ code: 'ENOSPC' })
      packs.syncFailures = 1
      await w.commit([record('u')], false, blocking)
      await expect(w.commit([record('c')], true, blocking)).rejects.toMatchObject({ code: 'ENOSPC' })
    }
    await w.commit([record('d')], true, true)
    await w.close()
    // The lazy commits were written: a failed commit after them cuts back to them, not before.
    expect((await scanAll(packs)).labels).toEqual(['a', 'u', 'u', 'd'])
  })

  test('a cut back that fails is tried again by the next commit, which then works', async () => {
    // Goal: a failure of the cleanup itself must not refuse writes for good (it used to).
    const packs = new FaultyPackDirectory(openPackDirectory(dir))
    packs.failureCode = 'ENOSPC'
    const w = writer(packs)
    await w.commit([record('a')], true)
    packs.writeFailures = 1
    packs.truncateFailures = 2
    await expect(w.commit([record('b')], true)).rejects.toMatchObject({ code: 'ENOSPC' })
    await expect(w.commit([record('c')], true)).rejects.toMatchObject({ message: 'ftruncate failed' })
    await w.commit([record('d')], true)
    await w.close()
    expect((await scanAll(packs)).labels).toEqual(['a', 'd'])
  })

  test('a failed sync or flush keeps the unsynced frames, and a later one makes them durable', async () => {
    // Goal: lazy commits were acknowledged (close returned): a failed flush must not drop them.
    const packs = new FaultyPackDirectory(openPackDirectory(dir))
    const w = writer(packs)
    await w.commit([record('a')], true)
    await w.commit([record('u')], false)
    packs.syncFailures = 1
    await expect(w.sync()).rejects.toMatchObject({ name: 'InjectedFault' })
    expect(w.durable).not.toEqual(w.end)
    await w.commit([record('v')], false)
    packs.syncFailures = 1
    await expect(w.flush()).rejects.toMatchObject({ name: 'InjectedFault' })
    expect(await w.flush()).toEqual(w.end)
    await w.commit([record('b')], true)
    await w.close()
    expect((await scanAll(packs)).labels).toEqual(['a', 'u', 'v', 'b'])
  })

  test('a flush covers what was written before it, while later commits go on', async () => {
    // Goal: the group commit: a background flush never claims frames written after it began.
    const packs = new FaultyPackDirectory(openPackDirectory(dir))
    const w = writer(packs)
    await w.commit([record('a')], false)
    const before = w.end
    const flushed = w.flush()
    await w.commit([record('b')], false, true)
    expect(await flushed).toEqual(before)
    expect(w.durable).not.toEqual(w.end)
    expect(await w.flush()).toEqual(w.end)
    await w.close()
    expect((await scanAll(packs)).labels).toEqual(['a', 'b'])
  })

  test('unsynced frames become durable with the next durable commit, and outlive a failed one', async () => {
    // Goal: lazy frames ride on the next flush; a failed commit is cut back to just before it.
    const packs = new FaultyPackDirectory(openPackDirectory(dir))
    const w = writer(packs)
    await w.commit([record('a')], true)
    await w.commit([record('u1')], false)
    expect(w.durable).not.toEqual(w.end)
    await w.commit([record('b')], true)
    expect(w.durable).toEqual(w.end)
    await w.commit([record('u2')], false)
    packs.syncFailures = 1
    await expect(w.commit([record('c')], true)).rejects.toMatchObject({ name: 'InjectedFault' })
    await w.close()
    expect((await scanAll(packs)).labels).toEqual(['a', 'u1', 'b', 'u2'])
  })

  test.each([false, true])(
    'a durable commit costs one write and one flush (blocking: %s)',
    async (blocking) => {
      // Goal: group commit: one write and one fdatasync (or one O_DSYNC write) per commit, whether
      // written on the main thread or through the threadpool.
      const packs = new FaultyPackDirectory(openPackDirectory(dir))
      const w = writer(packs)
      const group = Array.from({ length: 50 }, (_, i) => record(`g${i}`))
      await w.commit(group, true, blocking)
      await w.commit([record('x')], false, blocking)
      await w.commit([record('y')], true, blocking)
      await w.close()
      expect({ writes: packs.writes, flushes: packs.flushes }).toEqual({ writes: 3, flushes: 2 })
      expect((await scanAll(packs)).labels).toHaveLength(52)
    }
  )
})
