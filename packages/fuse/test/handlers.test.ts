import { constants } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog } from '@ivyfs/fs'
import { ErrnoError, IvyOperations, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from '@ivyfs/fuse'
import { SEGMENT_BYTES } from '../src/constants.js'
import { recordingLogger } from '../../../test/helpers/fuse-env.js'

const { O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, O_TRUNC, S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK } =
  constants
/** A caller as libfuse's request context gives it: uid 1000 in group 1000. */
const caller = { uid: 1000, gid: 1000, pid: 1, umask: 0o022 }
const CREATE = O_CREAT | O_RDWR

/** The handlers over a one-member filesystem on a memory log: no kernel involved. */
async function setup(): Promise<{ ops: IvyOperations; fs: Filesystem; records: () => number }> {
  const log = new MemoryLog({ publicKey: new Uint8Array(32).fill(7) })
  const fs = await Filesystem.createOn(log, { lockMode: 'available' })
  const ops = new IvyOperations(fs, recordingLogger())
  return { ops, fs, records: () => log.length(log.keys.publicKey) }
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('ivyfs handlers', () => {
  test('a close is a lazy record; fsync and every O_SYNC write append theirs durably', async () => {
    // Goal: durability like a local disk: close does not wait for the flush, fsync does.
    const log = new MemoryLog({ publicKey: new Uint8Array(32).fill(7) })
    const fs = await Filesystem.createOn(log, { lockMode: 'available' })
    const ops = new IvyOperations(fs, recordingLogger())
    const durable: boolean[] = []
    const append = log.append.bind(log)
    log.append = async (records, init) => {
      durable.push(init?.durable === true)
      return append(records, init)
    }
    let syncs = 0
    const sync = log.sync.bind(log)
    log.sync = async () => {
      syncs++
      return sync()
    }
    const closed = await ops.create('/closed', S_IFREG | 0o644, CREATE, caller)
    await ops.write('/closed', closed, Buffer.from('a'), 1, 0)
    await ops.release('/closed', closed)
    expect(durable).toEqual([false, false]) // the create, the close
    const synced = await ops.create('/synced', S_IFREG | 0o644, CREATE, caller)
    await ops.write('/synced', synced, Buffer.from('b'), 1, 0)
    durable.length = 0
    await ops.fsync('/synced', synced, false)
    expect(durable).toEqual([true])
    expect(syncs).toBe(1)
    await ops.release('/synced', synced)
    const osync = await ops.create('/osync', S_IFREG | 0o644, CREATE | constants.O_SYNC, caller)
    durable.length = 0
    await ops.write('/osync', osync, Buffer.from('c'), 1, 0)
    await ops.write('/osync', osync, Buffer.from('d'), 1, 1)
    expect(durable).toEqual([true, true])
    await ops.release('/osync', osync)
    expect(text(await fs.read('/osync', 0, 2))).toBe('cd')
  })

  test('writes stay local until flush, and getattr reports the pending size meanwhile', async () => {
    // Goal: the kernel's view of an open file (size) includes its buffered writes.
    const { ops, fs, records } = await setup()
    const handle = await ops.create('/f', S_IFREG | 0o644, CREATE, caller)
    const before = records()
    await ops.write('/f', handle, Buffer.from('hello'), 5, 0)
    expect((await ops.getattr('/f')).size).toBe(5)
    expect((await fs.getattr('/f')).size).toBe(0)
    expect(records()).toBe(before)
    await ops.flush('/f', handle)
    expect(records()).toBe(before + 1)
    expect(text(await fs.read('/f', 0, 10))).toBe('hello')
    await ops.release('/f', handle)
  })

  test('O_TRUNC, the new content and the times cp -a sets make one record', async () => {
    // Goal: a rewrite never shows other peers an empty file, and explicit times survive the commit.
    const { ops, fs, records } = await setup()
    await fs.create('/f')
    await fs.write('/f', 0, new TextEncoder().encode('old old old'))
    const before = records()
    const handle = await ops.open('/f', O_WRONLY | O_TRUNC)
    expect((await ops.getattr('/f')).size).toBe(0)
    await ops.write('/f', handle, Buffer.from('new'), 3, 0)
    const time = { ms: 1_600_000_000_000, subMsNs: 123_456 }
    await ops.utimens('/f', time, time)
    await ops.release('/f', handle)
    expect(records()).toBe(before + 1)
    expect(text(await fs.read('/f', 0, 100))).toBe('new')
    expect(await fs.getattr('/f')).toMatchObject({ mtimeMs: time.ms, mtimeSubMsNs: time.subMsNs })
  })

  test('a read-only handle sees another handle’s pending writes and commits nothing itself', async () => {
    // Goal: local readers see local writes (POSIX within one machine) without committing them.
    const { ops, records } = await setup()
    const writer = await ops.create('/f', S_IFREG | 0o644, CREATE, caller)
    await ops.write('/f', writer, Buffer.from('abc'), 3, 0)
    const reader = await ops.open('/f', O_RDONLY)
    const buffer = Buffer.alloc(10)
    expect(await ops.read('/f', reader, buffer, 10, 0)).toBe(3)
    expect(buffer.subarray(0, 3).toString()).toBe('abc')
    const before = records()
    await ops.flush('/f', reader)
    await ops.release('/f', reader)
    expect(records()).toBe(before)
    await ops.release('/f', writer)
    expect(records()).toBe(before + 1)
  })

  test("a read fills the kernel's buffer: committed bytes, pending writes over them, zeros after a truncate", async () => {
    // Goal: the kernel's buffer is reused and holds old bytes; a read must set every byte it reports.
    const { ops, fs } = await setup()
    await fs.create('/f')
    await fs.write('/f', 0, new TextEncoder().encode('0123456789'))
    const reader = await ops.open('/f', O_RDONLY)
    const buffer = Buffer.alloc(16, 0xee)
    expect(await ops.read('/f', reader, buffer, 16, 2)).toBe(8) // nothing pending: committed bytes
    expect(buffer.subarray(0, 8).toString()).toBe('23456789')
    expect(buffer.subarray(8).every((byte) => byte === 0xee)).toBe(true) // past the count: untouched
    const writer = await ops.open('/f', O_WRONLY)
    await ops.truncate('/f', 4) // pending: bytes 4.. of the committed file are gone
    await ops.write('/f', writer, Buffer.from('XY'), 2, 6) // and a write past the cut leaves a hole
    buffer.fill(0xee)
    expect(await ops.read('/f', reader, buffer, 16, 0)).toBe(8)
    expect([...buffer.subarray(0, 8)]).toEqual([...Buffer.from('0123'), 0, 0, ...Buffer.from('XY')])
    await ops.release('/f', writer)
    await ops.release('/f', reader)
    expect(text(await fs.read('/f', 0, 100))).toBe('0123\0\0XY')
  })

  test('mknod makes every file type, owned by the caller; device nodes keep their number', async () => {
    // Goal: FIFOs, sockets and device nodes are inodes like any other (their I/O is the kernel's).
    const { ops } = await setup()
    await ops.mknod('/r', S_IFREG | 0o600, 0, caller)
    await ops.mknod('/p', S_IFIFO | 0o640, 0, caller)
    await ops.mknod('/s', S_IFSOCK | 0o755, 0, caller)
    await ops.mknod('/c', S_IFCHR | 0o600, 0x0103, caller)
    await ops.mknod('/b', S_IFBLK | 0o600, 0x0801, caller)
    const stat = async (path: string): Promise<number[]> => {
      const a = await ops.getattr(path)
      return [a.mode, a.rdev, a.uid, a.gid]
    }
    expect(await stat('/r')).toEqual([S_IFREG | 0o600, 0, 1000, 1000])
    expect(await stat('/p')).toEqual([S_IFIFO | 0o640, 0, 1000, 1000])
    expect(await stat('/s')).toEqual([S_IFSOCK | 0o755, 0, 1000, 1000])
    expect(await stat('/c')).toEqual([S_IFCHR | 0o600, 0x0103, 1000, 1000])
    expect(await stat('/b')).toEqual([S_IFBLK | 0o600, 0x0801, 1000, 1000])
    await expect(ops.mknod('/p', S_IFIFO | 0o600, 0, caller)).rejects.toMatchObject({ errno: 'EEXIST' })
    await expect(ops.mknod('/x', 0o600, 0, caller)).rejects.toMatchObject({ errno: 'EINVAL' })
  })

  test('O_EXCL decides exclusivity: a plain O_CREAT of an existing name opens it', async () => {
    // Goal: only O_CREAT|O_EXCL is the lock primitive; an ordinary create of a name that appeared
    // meanwhile (another peer's) opens that file instead of failing.
    const { ops, fs } = await setup()
    await fs.create('/f')
    await fs.write('/f', 0, new TextEncoder().encode('kept'))
    const handle = await ops.create('/f', S_IFREG | 0o644, CREATE, caller)
    await ops.release('/f', handle)
    expect(text(await fs.read('/f', 0, 10))).toBe('kept')
    await expect(ops.create('/f', S_IFREG | 0o644, CREATE | O_EXCL, caller)).rejects.toMatchObject({
      errno: 'EEXIST'
    })
    const truncating = await ops.create('/f', S_IFREG | 0o644, CREATE | O_TRUNC, caller)
    await ops.release('/f', truncating)
    expect((await fs.getattr('/f')).size).toBe(0)
  })

  test('new inodes belong to the caller; in a setgid directory they take its group', async () => {
    // Goal: ownership follows the request context, with the BSD group rule for setgid directories.
    const { ops } = await setup()
    await ops.mkdir('/d', 0o755, caller)
    await ops.chown('/d', 1000, 50)
    await ops.chmod('/d', 0o2775)
    await ops.release('/d/f', await ops.create('/d/f', S_IFREG | 0o600, CREATE, caller))
    await ops.mkdir('/d/sub', 0o755, caller)
    await ops.symlink('target', '/l', { ...caller, uid: 7, gid: 8 })
    const owner = async (path: string): Promise<number[]> => {
      const a = await ops.getattr(path)
      return [a.uid, a.gid, a.mode & 0o7777]
    }
    expect(await owner('/d')).toEqual([1000, 50, 0o2775])
    expect(await owner('/d/f')).toEqual([1000, 50, 0o600])
    expect(await owner('/d/sub')).toEqual([1000, 50, 0o2755])
    expect(await owner('/l')).toEqual([7, 8, 0o777])
  })

  test('rename flags: NOREPLACE refuses an existing target, EXCHANGE swaps, WHITEOUT is EINVAL', async () => {
    // Goal: renameat2's flags arrive and mean what Linux says.
    const { ops, fs } = await setup()
    await fs.create('/a')
    await fs.write('/a', 0, new TextEncoder().encode('A'))
    await fs.create('/b')
    await fs.write('/b', 0, new TextEncoder().encode('B'))
    await expect(ops.rename('/a', '/b', RENAME_NOREPLACE)).rejects.toMatchObject({ errno: 'EEXIST' })
    await ops.rename('/a', '/b', RENAME_EXCHANGE)
    expect(text(await fs.read('/a', 0, 10))).toBe('B')
    expect(text(await fs.read('/b', 0, 10))).toBe('A')
    await expect(ops.rename('/a', '/c', RENAME_WHITEOUT)).rejects.toMatchObject({ errno: 'EINVAL' })
    await ops.rename('/a', '/c', RENAME_NOREPLACE)
    expect(text(await fs.read('/c', 0, 10))).toBe('B')
  })

  test('/.ivy is read-only, reserved at the root and absent from its listing', async () => {
    // Goal: the helper directory cannot be changed, shadowed or copied with the tree.
    const { ops } = await setup()
    await expect(ops.mkdir('/.ivy', 0o755, caller)).rejects.toMatchObject({ errno: 'EEXIST' })
    await expect(ops.create('/.ivy/conflicts/x', S_IFREG | 0o644, CREATE, caller)).rejects.toBeInstanceOf(
      ErrnoError
    )
    await expect(ops.open('/.ivy/conflicts', O_WRONLY)).rejects.toMatchObject({ errno: 'EROFS' })
    expect((await ops.readdir('/')).map((entry) => entry.name)).toEqual(['.', '..'])
    expect((await ops.readdir('/.ivy')).map((entry) => entry.name)).toEqual(['.', '..', 'conflicts'])
    expect((await ops.statfs()).nameBytesMax).toBe(255)
  })

  test('a sequential writer stages whole segments and its close commits them in one record', async () => {
    // Goal: large writes become SEGMENT_BYTES blobs (not one per two FUSE writes), put without a
    // copy; the close's record names them all and reads back the same bytes.
    const { ops, fs, records } = await setup()
    const puts: { bytes: number; init: unknown }[] = []
    const blobs = fs.log.blobs
    const put = blobs.put.bind(blobs)
    blobs.put = async (data: Uint8Array, init?: unknown) => {
      puts.push({ bytes: data.byteLength, init })
      // A copy: MemoryBlobs keeps data.slice(), a view when data is a Buffer (the mount's segment
      // buffers are reused once put resolves; the real BlobStore copies unless told it owns them).
      return put(new Uint8Array(data))
    }
    const handle = await ops.create('/big', S_IFREG | 0o644, CREATE, caller)
    const before = records()
    const block = 128 * 1024
    const total = 2 * SEGMENT_BYTES + 3 * block
    const data = Buffer.alloc(total)
    for (let at = 0; at < total; at++) data[at] = (at * 7) % 251
    for (let at = 0; at < total; at += block)
      await ops.write('/big', handle, data.subarray(at, at + block), block, at)
    await ops.release('/big', handle)
    expect(records()).toBe(before + 1)
    const staged = puts.filter((entry) => (entry.init as { owned?: boolean }).owned === true)
    expect(staged.map((entry) => entry.bytes)).toEqual([SEGMENT_BYTES, SEGMENT_BYTES])
    expect(staged[0]!.init).toEqual({ owned: true, durable: false })
    const back = Buffer.from(await fs.read('/big', 0, total))
    let diff = -1
    for (let i = 0; i < total; i++)
      if (back[i] !== data[i]) {
        diff = i
        break
      }
    expect({ length: back.byteLength, diff }).toEqual({ length: total, diff: -1 })
  })
})
