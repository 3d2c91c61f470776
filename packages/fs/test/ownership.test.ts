import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog, type CreateInit } from '../src/index.js'
import { keyFor } from './helpers/sim.js'

/** The filesystem's own owner is 1000:1000; FUSE callers pass theirs. */
const solo = (): Promise<Filesystem> =>
  Filesystem.createOn(new MemoryLog(keyFor('owners')), { lockMode: 'strict', uid: 1000, gid: 1000 })

const alice: CreateInit = { caller: { uid: 501, gid: 20 } }

/** Every call that makes a new inode, at `path`, as `init`'s caller. */
const makers: [string, (fs: Filesystem, path: string, init: CreateInit) => Promise<unknown>][] = [
  ['create', (fs, path, init) => fs.create(path, 0o644, init)],
  ['create exclusive', (fs, path, init) => fs.create(path, 0o644, { exclusive: true, ...init })],
  ['mkdir', (fs, path, init) => fs.mkdir(path, 0o755, init)],
  ['mknod', (fs, path, init) => fs.mknod(path, 'chardev', 0o600, 0x0101, init)],
  ['symlink', (fs, path, init) => fs.symlink('target', path, init)]
]

describe('the caller owns what it creates', () => {
  test.each(makers)('%s: uid and gid are the caller’s', async (_, make) => {
    // Goal: a FUSE request's uid and gid own the new inode.
    const fs = await solo()
    await make(fs, '/n', alice)
    expect(await fs.getattr('/n')).toMatchObject({ uid: 501, gid: 20 })
    await fs.close()
  })

  test.each(makers)('%s without a caller: the filesystem’s owner', async (_, make) => {
    // Goal: the daemon's and the CLI's calls keep today's owner.
    const fs = await solo()
    await make(fs, '/n', {})
    expect(await fs.getattr('/n')).toMatchObject({ uid: 1000, gid: 1000 })
    await fs.close()
  })

  test.each(makers)('%s in a setgid directory: the directory’s group', async (_, make) => {
    // Goal: the BSD rule Linux applies to a directory with S_ISGID.
    const fs = await solo()
    await fs.mkdir('/shared', 0o2775, alice)
    await fs.setattr('/shared', { gid: 42 })
    await make(fs, '/shared/n', { caller: { uid: 7, gid: 8 } })
    expect(await fs.getattr('/shared/n')).toMatchObject({ uid: 7, gid: 42 })
    await make(fs, '/other', { caller: { uid: 7, gid: 8 } })
    expect(await fs.getattr('/other')).toMatchObject({ uid: 7, gid: 8 })
    await fs.close()
  })

  test('a directory made in a setgid directory gets the setgid bit; other inodes keep their mode', async () => {
    // Goal: setgid propagates down a tree of directories, and nothing else about the mode changes.
    const fs = await solo()
    await fs.mkdir('/shared', 0o2770)
    await fs.mkdir('/shared/sub', 0o750, alice)
    await fs.create('/shared/file', 0o640, alice)
    await fs.mkdir('/plain', 0o750, alice)
    expect((await fs.getattr('/shared/sub')).mode).toBe(0o2750)
    expect((await fs.getattr('/shared/file')).mode).toBe(0o640)
    expect((await fs.getattr('/plain')).mode).toBe(0o750)
    await fs.mkdir('/shared/sub/deeper', 0o700)
    expect(await fs.getattr('/shared/sub/deeper')).toMatchObject({ mode: 0o2700, gid: 1000 })
    await fs.close()
  })

  test('an existing file returned by a non-exclusive create keeps its owner', async () => {
    // Goal: create without O_EXCL opens what is there; it does not take it over.
    const fs = await solo()
    await fs.create('/f', 0o644, alice)
    expect(await fs.create('/f', 0o600, { caller: { uid: 9, gid: 9 } })).toMatchObject({
      uid: 501,
      gid: 20,
      mode: 0o644
    })
    await expect(fs.create('/f', 0o600, { exclusive: true, ...alice })).rejects.toMatchObject({
      errno: 'EEXIST'
    })
    await fs.close()
  })

  test('a caller uid or gid outside 0 … 2^32 − 1 is EINVAL', async () => {
    // Goal: bad ids fail before anything is appended.
    const fs = await solo()
    for (const caller of [
      { uid: -1, gid: 0 },
      { uid: 0, gid: 2 ** 32 },
      { uid: 0.5, gid: 0 }
    ]) {
      await expect(fs.create('/f', 0o644, { caller })).rejects.toMatchObject({ errno: 'EINVAL' })
      await expect(fs.mkdir('/d', 0o755, { caller })).rejects.toMatchObject({ errno: 'EINVAL' })
    }
    expect(await fs.readdir('/')).toEqual([])
    await fs.close()
  })
})
