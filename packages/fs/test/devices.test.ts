import { describe, expect, test } from 'vitest'
import type { Op } from '@ivyfs/log'
import { Filesystem, MemoryLog, View, modeWithType, treeHash, type MknodKind } from '../src/index.js'
import { decodeChunks, snapshotOf } from './helpers/snapshot-restart.js'
import { keyFor, text } from './helpers/sim.js'

const solo = (): Promise<Filesystem> =>
  Filesystem.createOn(new MemoryLog(keyFor('devices')), { lockMode: 'strict' })

const TYPE_BITS: [MknodKind, number][] = [
  ['file', 0o100000],
  ['fifo', 0o010000],
  ['socket', 0o140000],
  ['chardev', 0o020000],
  ['blockdev', 0o060000]
]

describe('mknod: every file type', () => {
  test.each(TYPE_BITS)('a %s gets its kind, mode, st_mode type bits and rdev', async (kind, bits) => {
    // Goal: getattr reports what mknod made, with the S_IF* bits the kernel expects.
    const fs = await solo()
    const device = kind === 'chardev' || kind === 'blockdev'
    const attr = await fs.mknod('/n', kind, bits | 0o640, 0x0801)
    expect(attr).toMatchObject({ kind, mode: 0o640, size: 0, nlink: 1, rdev: device ? 0x0801 : 0 })
    expect(modeWithType(attr)).toBe(bits | 0o640)
    expect(await fs.getattr('/n')).toEqual(attr)
    expect((await fs.readdir('/'))[0]).toMatchObject({ name: 'n', attr: { kind } })
    await fs.close()
  })

  test('mknod is exclusive and refuses kinds it does not make', async () => {
    // Goal: EEXIST on an existing name (as mkdir); directories and symlinks have their own calls.
    const fs = await solo()
    await fs.mknod('/p', 'fifo', 0o644, 0)
    await expect(fs.mknod('/p', 'socket', 0o644, 0)).rejects.toMatchObject({ errno: 'EEXIST' })
    await expect(fs.mknod('/q', 'dir' as MknodKind, 0o755, 0)).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.mknod('/q', 'symlink' as MknodKind, 0o755, 0)).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.mknod('/missing/q', 'fifo', 0o644, 0)).rejects.toMatchObject({ errno: 'ENOENT' })
    expect(fs.exists('/q')).toBe(false)
    await fs.close()
  })

  test('a device number is 0 … 2^32 − 1; other kinds ignore it', async () => {
    // Goal: rdev is checked for devices (EINVAL) and dropped for the kinds that have none.
    const fs = await solo()
    expect((await fs.mknod('/max', 'blockdev', 0o600, 0xffff_ffff)).rdev).toBe(0xffff_ffff)
    expect((await fs.mknod('/zero', 'chardev', 0o600, 0)).rdev).toBe(0)
    for (const rdev of [-1, 2 ** 32, 1.5, Number.NaN]) {
      await expect(fs.mknod('/bad', 'chardev', 0o600, rdev)).rejects.toMatchObject({ errno: 'EINVAL' })
    }
    expect((await fs.mknod('/fifo', 'fifo', 0o600, 77)).rdev).toBe(0)
    await fs.close()
  })

  test('fifos, sockets and devices hold no data: read, write and truncate are EINVAL', async () => {
    // Goal: like any non-regular file, and nothing is appended for the refused calls.
    const fs = await solo()
    for (const [kind] of TYPE_BITS.filter(([kind]) => kind !== 'file')) {
      const path = `/${kind}`
      await fs.mknod(path, kind, 0o644, 3)
      const hash = fs.treeHash()
      await expect(fs.write(path, 0, text('x')), kind).rejects.toMatchObject({ errno: 'EINVAL' })
      await expect(fs.truncate(path, 0), kind).rejects.toMatchObject({ errno: 'EINVAL' })
      await expect(fs.read(path, 0, 1), kind).rejects.toMatchObject({ errno: 'EINVAL' })
      await expect(fs.readlink(path), kind).rejects.toMatchObject({ errno: 'EINVAL' })
      await expect(fs.create(path), kind).rejects.toMatchObject({ errno: 'EINVAL' })
      expect(fs.treeHash()).toBe(hash)
    }
    await fs.close()
  })

  test('devices can be hard-linked, renamed, chmodded and unlinked like files', async () => {
    // Goal: only their data is special; names and attributes behave as for any inode.
    const fs = await solo()
    await fs.mknod('/tty', 'chardev', 0o620, 0x8801)
    await fs.link('/tty', '/tty2')
    await fs.rename('/tty', '/console')
    await fs.setattr('/console', { mode: 0o600, gid: 5 })
    expect(await fs.getattr('/tty2')).toMatchObject({ kind: 'chardev', rdev: 0x8801, nlink: 2, mode: 0o600 })
    await fs.unlink('/console')
    expect((await fs.getattr('/tty2')).nlink).toBe(1)
    await fs.close()
  })

  test('the tree hash covers a device number', () => {
    // Goal: two trees that differ only in one device's rdev differ in hash.
    const author = keyFor('devices').publicKey
    const [root, dev] = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)]
    const descriptor = { creator: author, timeMs: 0, nonce: new Uint8Array(16), lockMode: 'strict' as const }
    const hashOf = (rdev: number): string => {
      const view = new View()
      const ops: Op[] = [
        { type: 'genesis', descriptor, root },
        { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
        { type: 'inode', ino: dev, kind: 'blockdev', mode: 0o600, uid: 0, gid: 0, rdev },
        { type: 'link', dir: root, name: 'sda', ino: dev }
      ]
      view.ingest({ id: new Uint8Array(32).fill(9), body: { author, seq: 0, vv: [], timeMs: 0, ops } })
      expect(view.state.rejections).toEqual([])
      return treeHash(view.state)
    }
    expect(hashOf(1)).not.toBe(hashOf(2))
    expect(hashOf(3)).toBe(hashOf(3))
  })

  test('a snapshot keeps device numbers and kinds', async () => {
    // Goal: a restart from a snapshot loses nothing of a device, fifo or socket.
    const log = new MemoryLog(keyFor('devices'))
    const fs = await Filesystem.createOn(log, { lockMode: 'strict' })
    await fs.mknod('/dev', 'blockdev', 0o600, 0x0803)
    await fs.mknod('/tty', 'chardev', 0o600, 0x8801)
    await fs.mknod('/sock', 'socket', 0o600, 0)
    await fs.mknod('/pipe', 'fifo', 0o600, 0)
    const view = new View()
    view.ingestMany(log.records())
    const restarted = decodeChunks(snapshotOf(view, 2))
    expect(restarted.state.inode(await fs.handle('/dev'))).toMatchObject({ kind: 'blockdev', rdev: 0x0803 })
    expect(restarted.state.inode(await fs.handle('/tty'))).toMatchObject({ kind: 'chardev', rdev: 0x8801 })
    expect(restarted.state.inode(await fs.handle('/sock'))).toMatchObject({ kind: 'socket', rdev: 0 })
    expect(treeHash(restarted.state)).toBe(fs.treeHash())
    await fs.close()
  })
})
