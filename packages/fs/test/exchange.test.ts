import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog, View, conflictIndexHash, treeHash } from '../src/index.js'
import { checkInvariants } from './helpers/invariants.js'
import { closeAll, decodeText, keyFor, makePeers, syncAll, text, type SimPeer } from './helpers/sim.js'
import { rngFor, shuffle } from './helpers/workload.js'

const solo = (): Promise<Filesystem> =>
  Filesystem.createOn(new MemoryLog(keyFor('exchange')), { lockMode: 'strict' })

const records = (fs: Filesystem): number => [...fs.versionVector().values()].reduce((a, b) => a + b + 1, 0)

describe('rename with exchange (RENAME_EXCHANGE)', () => {
  test('swaps two files in one record', async () => {
    // Goal: both names stay, each now names the other's inode, atomically.
    const fs = await solo()
    await fs.create('/a')
    await fs.write('/a', 0, text('A'))
    await fs.create('/b')
    await fs.write('/b', 0, text('B'))
    const [a, b] = [await fs.handle('/a'), await fs.handle('/b')]
    const before = records(fs)
    await fs.rename('/a', '/b', { exchange: true })
    expect(records(fs)).toBe(before + 1)
    expect([await fs.handle('/a'), await fs.handle('/b')]).toEqual([b, a])
    expect(decodeText(await fs.read('/a', 0, 1))).toBe('B')
    expect(decodeText(await fs.read('/b', 0, 1))).toBe('A')
    await fs.close()
  })

  test('swaps a file and a non-empty directory between two parents; link counts follow the directory', async () => {
    // Goal: the types may differ; the parents' nlink (2 + subdirectories) moves with the directory.
    const fs = await solo()
    await fs.mkdir('/p')
    await fs.mkdir('/q')
    await fs.create('/p/f')
    await fs.mkdir('/q/d')
    await fs.create('/q/d/inside')
    expect([(await fs.getattr('/p')).nlink, (await fs.getattr('/q')).nlink]).toEqual([2, 3])
    await fs.rename('/p/f', '/q/d', { exchange: true })
    expect((await fs.getattr('/p/f')).kind).toBe('dir')
    expect((await fs.readdir('/p/f')).map((e) => e.name)).toEqual(['inside'])
    expect((await fs.getattr('/q/d')).kind).toBe('file')
    expect([(await fs.getattr('/p')).nlink, (await fs.getattr('/q')).nlink]).toEqual([3, 2])
    expect(checkInvariants(fs['view'].state)).toEqual([])
    await fs.rename('/p/f', '/q/d', { exchange: true })
    expect([(await fs.getattr('/p')).nlink, (await fs.getattr('/q')).nlink]).toEqual([2, 3])
    expect(checkInvariants(fs['view'].state)).toEqual([])
    await fs.close()
  })

  test('swaps two directories of one parent and keeps their contents', async () => {
    // Goal: a swap inside one directory changes no link count.
    const fs = await solo()
    await fs.mkdir('/x')
    await fs.mkdir('/y')
    await fs.create('/x/in-x')
    await fs.rename('/x', '/y', { exchange: true })
    expect(await fs.readdir('/x')).toEqual([])
    expect((await fs.readdir('/y')).map((e) => e.name)).toEqual(['in-x'])
    expect((await fs.getattr('/')).nlink).toBe(4)
    expect(checkInvariants(fs['view'].state)).toEqual([])
    await fs.close()
  })

  test('needs both names (ENOENT); with noReplace, or moving a directory below itself, is EINVAL', async () => {
    // Goal: renameat2's errors, checked before anything is appended.
    const fs = await solo()
    await fs.mkdir('/d')
    await fs.mkdir('/d/e')
    await fs.create('/d/e/f')
    await fs.create('/g')
    const hash = fs.treeHash()
    const before = records(fs)
    await expect(fs.rename('/g', '/missing', { exchange: true })).rejects.toMatchObject({ errno: 'ENOENT' })
    await expect(fs.rename('/missing', '/g', { exchange: true })).rejects.toMatchObject({ errno: 'ENOENT' })
    await expect(fs.rename('/g', '/d', { exchange: true, noReplace: true })).rejects.toMatchObject({
      errno: 'EINVAL'
    })
    await expect(fs.rename('/d', '/d/e/f', { exchange: true })).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.rename('/d/e/f', '/d', { exchange: true })).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.rename('/d/e', '/d', { exchange: true })).rejects.toMatchObject({ errno: 'EINVAL' })
    expect(fs.treeHash()).toBe(hash)
    expect(records(fs)).toBe(before)
    await fs.close()
  })

  test('two names of one inode, or one name with itself: success, and nothing changes', async () => {
    // Goal: like rename(2) between links of one file, the exchange does nothing.
    const fs = await solo()
    await fs.create('/f')
    await fs.link('/f', '/g')
    const hash = fs.treeHash()
    const before = records(fs)
    await fs.rename('/f', '/g', { exchange: true })
    await fs.rename('/f', '/f', { exchange: true })
    expect(fs.treeHash()).toBe(hash)
    expect(records(fs)).toBe(before)
    await fs.close()
  })

  test('history of a name lists the exchanges that touched it', async () => {
    // Goal: the CLI's history sees exchange records like renames.
    const fs = await solo()
    await fs.create('/a')
    await fs.create('/b')
    await fs.rename('/a', '/b', { exchange: true })
    const history = await fs.history('/a')
    expect(history.at(-1)?.ops.map((op) => op.type)).toEqual(['exchange'])
    await fs.close()
  })
})

/** Both peers do one thing concurrently; `later` sorts after the other (one more record first). */
async function concurrently(
  [a, b]: readonly [SimPeer, SimPeer],
  later: 'a' | 'b',
  opA: (fs: Filesystem) => Promise<unknown>,
  opB: (fs: Filesystem) => Promise<unknown>
): Promise<void> {
  await (later === 'a' ? a : b).fs.append([{ type: 'ack' }])
  await opA(a.fs)
  await opB(b.fs)
  syncAll([a, b])
  expect(a.fs.treeHash()).toBe(b.fs.treeHash())
  expect(a.fs.conflictIndexHash()).toBe(b.fs.conflictIndexHash())
}

async function pair(): Promise<readonly [SimPeer, SimPeer]> {
  const [a, b] = await makePeers(['a', 'b'], { lockMode: 'available' })
  await a!.fs.mkdir('/d')
  await a!.fs.create('/x')
  await a!.fs.create('/y')
  syncAll([a!, b!])
  return [a!, b!]
}

describe('exchange in the merged view', () => {
  test('an exchange after a concurrent unlink of one name is a remove-change conflict and a no-op', async () => {
    // Goal: like a rename of a name removed concurrently: nothing moves, the clash is reported.
    const peers = await pair()
    const y = await peers[0].fs.handle('/y')
    await concurrently(
      peers,
      'b',
      (fs) => fs.unlink('/x'),
      (fs) => fs.rename('/x', '/y', { exchange: true })
    )
    const fs = peers[0].fs
    expect(fs.exists('/x')).toBe(false)
    expect(await fs.handle('/y')).toBe(y)
    expect((await fs.conflicts()).map((c) => c.kind)).toEqual(['remove-change'])
    expect(fs.rejections().at(-1)?.reason).toBe('name changed concurrently')
    await closeAll(peers)
  })

  test('an unlink after a concurrent exchange removes the name it now holds, as an entry conflict', async () => {
    // Goal: the other order of the same two records: the exchange applies, the unlink then
    // replaces a value it never saw, which is reported.
    const peers = await pair()
    const [x, y] = [await peers[0].fs.handle('/x'), await peers[0].fs.handle('/y')]
    await concurrently(
      peers,
      'a',
      (fs) => fs.unlink('/x'),
      (fs) => fs.rename('/x', '/y', { exchange: true })
    )
    const fs = peers[0].fs
    expect(fs.exists('/x')).toBe(false)
    expect(await fs.handle('/y')).toBe(x)
    const [conflict] = await fs.conflicts()
    expect(conflict).toMatchObject({ kind: 'entry', loser: { version: { ino: y } } })
    await closeAll(peers)
  })

  test('an exchange over a name a concurrent rename replaced wins it, as an entry conflict', async () => {
    // Goal: an entry changed by an unseen record is a conflict; the exchange (later) shows.
    const peers = await pair()
    const [x, y] = [await peers[0].fs.handle('/x'), await peers[0].fs.handle('/y')]
    await peers[0].fs.create('/z')
    syncAll(peers)
    const z = await peers[0].fs.handle('/z')
    await concurrently(
      peers,
      'b',
      (fs) => fs.rename('/z', '/y'),
      (fs) => fs.rename('/x', '/y', { exchange: true })
    )
    const fs = peers[0].fs
    expect([await fs.handle('/x'), await fs.handle('/y')]).toEqual([z, x])
    const [conflict] = await fs.conflicts()
    expect(conflict).toMatchObject({ kind: 'entry', winner: { version: { ino: x } } })
    expect(conflict?.loser.version.ino).toBe(z)
    expect(y).not.toBe(z)
    await closeAll(peers)
  })

  test('two concurrent exchanges of the same names both apply: the names swap back, both flagged', async () => {
    // Goal: the op names no inodes, so the second swap cannot be told from another change; it is
    // applied and each name carries an entry conflict (never a silent loss).
    const peers = await pair()
    const [x, y] = [await peers[0].fs.handle('/x'), await peers[0].fs.handle('/y')]
    await concurrently(
      peers,
      'b',
      (fs) => fs.rename('/x', '/y', { exchange: true }),
      (fs) => fs.rename('/x', '/y', { exchange: true })
    )
    const fs = peers[0].fs
    expect([await fs.handle('/x'), await fs.handle('/y')]).toEqual([x, y])
    expect((await fs.conflicts()).map((c) => c.kind)).toEqual(['entry', 'entry'])
    await closeAll(peers)
  })

  test('an exchange that a concurrent rename would turn into a cycle is dropped and flagged', async () => {
    // Goal: like rename: a directory never ends up below itself; the cycle is a conflict.
    const peers = await pair()
    await peers[0].fs.mkdir('/q')
    await peers[0].fs.create('/q/f')
    syncAll(peers)
    const hashBefore = { d: await peers[0].fs.handle('/d'), f: await peers[0].fs.handle('/q/f') }
    await concurrently(
      peers,
      'b',
      (fs) => fs.rename('/q', '/d/q'),
      (fs) => fs.rename('/d', '/q/f', { exchange: true })
    )
    const fs = peers[0].fs
    expect(await fs.handle('/d')).toBe(hashBefore.d)
    expect(await fs.handle('/d/q/f')).toBe(hashBefore.f)
    expect((await fs.conflicts()).map((c) => c.kind)).toEqual(['rename-cycle'])
    expect(fs.rejections().at(-1)?.errno).toBe('ELOOP')
    for (const peer of peers) expect(checkInvariants(peer.fs['view'].state)).toEqual([])
    await closeAll(peers)
  })

  test('exchanges roll back and replay: every arrival order gives one tree and one conflict index', async () => {
    // Goal: the exchange's steps go through the undo log like every other op's.
    const peers = await pair()
    await peers[0].fs.mkdir('/d/sub')
    syncAll(peers)
    await peers[0].fs.rename('/x', '/d/sub', { exchange: true })
    await peers[1].fs.rename('/d', '/y', { exchange: true })
    await peers[1].fs.write('/x', 0, text('b'))
    await peers[0].fs.rename('/d', '/x', { exchange: true })
    syncAll(peers)
    const all = peers[0].log.records()
    for (let seed = 0; seed < 8; seed++) {
      const view = new View()
      for (const record of shuffle(rngFor(seed), [...all])) view.ingest(record)
      expect(treeHash(view.state)).toBe(peers[0].fs.treeHash())
      expect(conflictIndexHash(view.state)).toBe(peers[0].fs.conflictIndexHash())
      expect(checkInvariants(view.state)).toEqual([])
    }
    await closeAll(peers)
  })
})
