import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog, type Attr } from '../src/index.js'
import { keyFor, text } from './helpers/sim.js'

/** One member whose records are stamped 1000, 2000, … ms: each call's times are its own. */
async function ticking(): Promise<{ fs: Filesystem; tick: () => number }> {
  let now = 0
  const fs = await Filesystem.createOn(new MemoryLog(keyFor('times')), {
    lockMode: 'strict',
    clock: () => now
  })
  return { fs, tick: () => (now += 1000) }
}

const times = (attr: Attr): { mtimeMs: number; ctimeMs: number } => ({
  mtimeMs: attr.mtimeMs,
  ctimeMs: attr.ctimeMs
})

describe('ctime and mtime follow POSIX', () => {
  test('chmod, chown and utimes change ctime only; write and truncate change mtime and ctime', async () => {
    // Goal: st_ctime marks every change of the inode, st_mtime every change of its data.
    const { fs, tick } = await ticking()
    const t0 = tick()
    await fs.create('/f')
    const t1 = tick()
    await fs.setattr('/f', { mode: 0o600 })
    expect(times(await fs.getattr('/f'))).toEqual({ mtimeMs: t0, ctimeMs: t1 })
    const t2 = tick()
    await fs.setattr('/f', { uid: 7, gid: 8 })
    expect(times(await fs.getattr('/f'))).toEqual({ mtimeMs: t0, ctimeMs: t2 })
    const t3 = tick()
    await fs.setattr('/f', { mtimeMs: 5 })
    expect(times(await fs.getattr('/f'))).toEqual({ mtimeMs: 5, ctimeMs: t3 })
    const t4 = tick()
    await fs.write('/f', 0, text('abc'))
    expect(times(await fs.getattr('/f'))).toEqual({ mtimeMs: t4, ctimeMs: t4 })
    const t5 = tick()
    await fs.truncate('/f', 1)
    expect(times(await fs.getattr('/f'))).toEqual({ mtimeMs: t5, ctimeMs: t5 })
    await fs.close()
  })

  test('link and unlink change the inode ctime and the directory mtime and ctime', async () => {
    // Goal: a name added or removed is a change of the inode (nlink) and of its directory.
    const { fs, tick } = await ticking()
    tick()
    await fs.mkdir('/d')
    await fs.create('/f')
    const t1 = tick()
    await fs.link('/f', '/d/g')
    expect((await fs.getattr('/f')).ctimeMs).toBe(t1)
    expect(times(await fs.getattr('/d'))).toEqual({ mtimeMs: t1, ctimeMs: t1 })
    const untouched = times(await fs.getattr('/'))
    const t2 = tick()
    await fs.unlink('/d/g')
    expect((await fs.getattr('/f')).ctimeMs).toBe(t2)
    expect(times(await fs.getattr('/d'))).toEqual({ mtimeMs: t2, ctimeMs: t2 })
    expect(times(await fs.getattr('/'))).toEqual(untouched)
    await fs.close()
  })

  test('create, mkdir, mknod, symlink and rmdir change the directory mtime and ctime', async () => {
    // Goal: every entry added to or removed from a directory marks it.
    const { fs, tick } = await ticking()
    tick()
    await fs.mkdir('/d')
    const steps: [string, () => Promise<unknown>][] = [
      ['create', () => fs.create('/d/f')],
      ['mkdir', () => fs.mkdir('/d/e')],
      ['mknod', () => fs.mknod('/d/p', 'fifo', 0o644, 0)],
      ['symlink', () => fs.symlink('f', '/d/s')],
      ['rmdir', () => fs.rmdir('/d/e')]
    ]
    for (const [name, step] of steps) {
      const t = tick()
      await step()
      expect(times(await fs.getattr('/d')), name).toEqual({ mtimeMs: t, ctimeMs: t })
    }
    await fs.close()
  })

  test('rename changes the moved inode ctime, a replaced inode ctime and both directories', async () => {
    // Goal: rename(2): the moved object, the target it replaces, the old and the new directory.
    const { fs, tick } = await ticking()
    tick()
    await fs.mkdir('/a')
    await fs.mkdir('/b')
    await fs.create('/a/f')
    await fs.create('/b/g')
    await fs.link('/b/g', '/g2')
    const before = times(await fs.getattr('/'))
    const t = tick()
    await fs.rename('/a/f', '/b/g')
    expect((await fs.getattr('/b/g')).ctimeMs).toBe(t)
    expect((await fs.getattr('/g2')).ctimeMs).toBe(t)
    expect((await fs.getattr('/g2')).mtimeMs).not.toBe(t)
    expect(times(await fs.getattr('/a'))).toEqual({ mtimeMs: t, ctimeMs: t })
    expect(times(await fs.getattr('/b'))).toEqual({ mtimeMs: t, ctimeMs: t })
    expect(times(await fs.getattr('/'))).toEqual(before)
    await fs.close()
  })

  test('an exchange changes both inodes ctime and both directories mtime and ctime', async () => {
    // Goal: RENAME_EXCHANGE moves two names: both objects and both directories change.
    const { fs, tick } = await ticking()
    tick()
    await fs.mkdir('/a')
    await fs.mkdir('/b')
    const file = await fs.create('/a/f')
    const dir = await fs.mkdir('/b/d')
    const t = tick()
    await fs.rename('/a/f', '/b/d', { exchange: true })
    expect(times(await fs.getattr('/b/d'))).toEqual({ mtimeMs: file.mtimeMs, ctimeMs: t })
    expect(times(await fs.getattr('/a/f'))).toEqual({ mtimeMs: dir.mtimeMs, ctimeMs: t })
    expect(times(await fs.getattr('/a'))).toEqual({ mtimeMs: t, ctimeMs: t })
    expect(times(await fs.getattr('/b'))).toEqual({ mtimeMs: t, ctimeMs: t })
    await fs.close()
  })

  test('a call that fails changes no time', async () => {
    // Goal: an unsuccessful call (nothing appended) leaves ctime and mtime as they were.
    const { fs, tick } = await ticking()
    tick()
    await fs.mkdir('/d')
    await fs.create('/d/f')
    const before = [times(await fs.getattr('/d')), times(await fs.getattr('/d/f'))]
    tick()
    await expect(fs.mkdir('/d/f')).rejects.toMatchObject({ errno: 'EEXIST' })
    await expect(fs.rmdir('/d')).rejects.toMatchObject({ errno: 'ENOTEMPTY' })
    await expect(fs.rename('/d/f', '/d/missing', { exchange: true })).rejects.toMatchObject({
      errno: 'ENOENT'
    })
    expect([times(await fs.getattr('/d')), times(await fs.getattr('/d/f'))]).toEqual(before)
    await fs.close()
  })
})
