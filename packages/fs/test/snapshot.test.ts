import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { KeyPair, LogStore } from '@ivyfs/log'
import type { Op } from '@ivyfs/log'
import { Filesystem, View, conflictIndexHash, treeHash, type ViewRecord } from '../src/index.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ivyfs-fs-snapshot-'))
  dirs.push(dir)
  return dir
}

const RECORDS = Number(process.env.IVYFS_FS_SNAPSHOT_RECORDS ?? 100_000)
const FILES = 500

function opsFor(i: number, inos: Uint8Array[], root: Uint8Array): Op[] {
  const ino = inos[i % FILES] as Uint8Array
  if (i < FILES) {
    return [
      { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
      { type: 'link', dir: root, name: `f${i}`, ino }
    ]
  }
  if (i % 7 === 0) return [{ type: 'setattrs', ino, mode: 0o600 + (i % 64) }]
  return [{ type: 'write', ino, offset: (i * 13) % 4096, length: 8, inline: new Uint8Array(8).fill(i % 251) }]
}

describe('snapshots and restart', () => {
  test(`reopening after ${RECORDS} records gives the tree of a full replay, applying only what follows`, async () => {
    // Goal: restart loads the newest snapshot; its result equals replaying every record.
    const path = await tempDir()
    const keys = KeyPair.generate()
    const fs = await Filesystem.create({ path, keys, lockMode: 'strict', snapshotEveryRecords: 20_000 })
    const root = Buffer.from(fs['state'].meta.root as string, 'hex')
    const inos = Array.from({ length: FILES }, (_, i) =>
      new Uint8Array(16).fill(i % 256).map((v, j) => (j === 0 ? i >> 8 : v))
    )
    const BATCH = 2000
    for (let start = 0; start < RECORDS; start += BATCH) {
      const appends: Promise<unknown>[] = []
      for (let i = start; i < Math.min(RECORDS, start + BATCH); i++)
        appends.push(fs.append(opsFor(i, inos, root)))
      await Promise.all(appends)
    }
    const hash = fs.treeHash()
    const conflicts = fs.conflictIndexHash()
    await fs.close()

    const started = performance.now()
    const reopened = await Filesystem.open({
      path,
      keys,
      fsId: fs.log instanceof LogStore ? fs.log.fsId : new Uint8Array()
    })
    const openMs = performance.now() - started
    expect(reopened.treeHash()).toBe(hash)
    expect(reopened.conflictIndexHash()).toBe(conflicts)

    const all: ViewRecord[] = []
    for await (const record of reopened.log.range(keys.publicKey, 0)) all.push(record)
    expect(all.length).toBe(RECORDS + 1)
    const replayStarted = performance.now()
    const replay = new View()
    replay.ingestMany(all)
    const replayMs = performance.now() - replayStarted
    expect(treeHash(replay.state)).toBe(hash)
    expect(conflictIndexHash(replay.state)).toBe(conflicts)
    console.log(
      `fs snapshot: open ${openMs.toFixed(0)} ms; full replay of ${all.length} records ${replayMs.toFixed(0)} ms`
    )
    await reopened.write('/f1', 0, new Uint8Array([1]))
    await reopened.close()
  }, 240_000)
})
