import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog } from '../src/index.js'
import { decodeText, keyFor, text } from './helpers/sim.js'

const solo = (): Promise<Filesystem> =>
  Filesystem.createOn(new MemoryLog(keyFor('posix')), { lockMode: 'strict' })

describe('POSIX rules in the view', () => {
  test('mkdir, create exclusive, link and symlink refuse an existing name (EEXIST)', async () => {
    // Goal: exclusive creation semantics for one member.
    const fs = await solo()
    await fs.mkdir('/d')
    await fs.create('/d/f')
    await expect(fs.mkdir('/d')).rejects.toMatchObject({ name: 'ExistsError', errno: 'EEXIST' })
    await expect(fs.create('/d/f', 0o644, { exclusive: true })).rejects.toMatchObject({ errno: 'EEXIST' })
    await expect(fs.link('/d/f', '/d/f')).rejects.toMatchObject({ errno: 'EEXIST' })
    await expect(fs.symlink('x', '/d')).rejects.toMatchObject({ errno: 'EEXIST' })
    expect((await fs.create('/d/f')).kind).toBe('file')
    await fs.close()
  })

  test('paths longer than PATH_MAX resolve; a component longer than NAME_MAX is ENAMETOOLONG', async () => {
    // Goal: the kernel resolves PATH_MAX from the caller's working directory, so the mount-relative
    // path libfuse builds may be longer; only each name is bounded (as on ext4).
    const fs = await solo()
    let path = ''
    for (let i = 0; i < 20; i++) {
      path += '/' + String(i).padStart(3, '0') + 'd'.repeat(251)
      await fs.mkdir(path)
    }
    expect(path.length).toBeGreaterThan(4096)
    await fs.create(path + '/f')
    expect((await fs.getattr(path + '/f')).kind).toBe('file')
    const long = 'n'.repeat(256)
    await expect(fs.getattr(`/${long}`)).rejects.toMatchObject({ errno: 'ENAMETOOLONG' })
    await expect(fs.getattr(`/${long}/x`)).rejects.toMatchObject({ errno: 'ENAMETOOLONG' })
    await expect(fs.setattr(`${path}/${long}`, { mode: 0o600 })).rejects.toMatchObject({
      errno: 'ENAMETOOLONG'
    })
    await fs.close()
  })

  test('rmdir only when empty; unlink refuses directories; rmdir refuses files', async () => {
    // Goal: ENOTEMPTY, EISDIR and ENOTDIR.
    const fs = await solo()
    await fs.mkdir('/d')
    await fs.create('/d/f')
    await expect(fs.rmdir('/d')).rejects.toMatchObject({ name: 'NotEmptyError' })
    await expect(fs.unlink('/d')).rejects.toMatchObject({ name: 'IsDirError' })
    await expect(fs.rmdir('/d/f')).rejects.toMatchObject({ name: 'NotDirError' })
    await fs.unlink('/d/f')
    await fs.rmdir('/d')
    expect(await fs.readdir('/')).toEqual([])
    await expect(fs.getattr('/d')).rejects.toMatchObject({ errno: 'ENOENT' })
    await fs.close()
  })

  test('rename over a file replaces it, over an empty dir only with a dir, never below itself', async () => {
    // Goal: rename semantics of POSIX.
    const fs = await solo()
    await fs.create('/a')
    await fs.write('/a', 0, text('A'))
    await fs.create('/b')
    await fs.rename('/a', '/b')
    expect(decodeText(await fs.read('/b', 0, 1))).toBe('A')
    await fs.mkdir('/d')
    await fs.mkdir('/e')
    await fs.mkdir('/e/sub')
    await expect(fs.rename('/b', '/d')).rejects.toMatchObject({ errno: 'EISDIR' })
    await expect(fs.rename('/d', '/b')).rejects.toMatchObject({ errno: 'ENOTDIR' })
    await expect(fs.rename('/d', '/e')).rejects.toMatchObject({ errno: 'ENOTEMPTY' })
    await expect(fs.rename('/e', '/e/sub/x')).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.rename('/b', '/e/sub', { noReplace: true })).rejects.toMatchObject({ errno: 'EEXIST' })
    await fs.rename('/e/sub', '/d')
    expect((await fs.readdir('/')).map((e) => e.name)).toEqual(['b', 'd', 'e'])
    expect((await fs.getattr('/e')).nlink).toBe(2)
    await fs.close()
  })

  test('hard links share data and count links; an unlinked open file stays readable by handle', async () => {
    // Goal: nlink and open-but-unlinked files.
    const fs = await solo()
    await fs.create('/f')
    await fs.write('/f', 0, text('shared'))
    await fs.link('/f', '/g')
    expect((await fs.getattr('/g')).nlink).toBe(2)
    await expect(fs.link('/', '/root-link')).rejects.toMatchObject({ errno: 'EPERM' })
    const handle = await fs.handle('/f')
    await fs.unlink('/f')
    await fs.unlink('/g')
    expect(decodeText(await fs.readIno(handle, 0, 10))).toBe('shared')
    expect((await fs.getattrIno(handle)).nlink).toBe(0)
    await fs.close()
  })

  test('a symlink target that is empty or holds a NUL byte is EINVAL, and nothing is written', async () => {
    // Goal: a target the kernel could never hand back is refused here, not by the op codec.
    const fs = await solo()
    const before = fs.treeHash()
    await expect(fs.symlink('', '/s')).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.symlink('a\0b', '/s')).rejects.toMatchObject({ errno: 'EINVAL' })
    expect(fs.exists('/s')).toBe(false)
    expect(fs.treeHash()).toBe(before)
  })

  test('truncate, sparse writes, setattr and symlinks', async () => {
    // Goal: sizes, holes, modes and readlink.
    const fs = await solo()
    await fs.create('/f')
    await fs.write('/f', 4, text('xy'))
    expect(await fs.read('/f', 0, 10)).toEqual(new Uint8Array([0, 0, 0, 0, 120, 121]))
    await fs.truncate('/f', 5)
    expect((await fs.getattr('/f')).size).toBe(5)
    await fs.truncate('/f', 8)
    expect(await fs.read('/f', 0, 10)).toEqual(new Uint8Array([0, 0, 0, 0, 120, 0, 0, 0]))
    await fs.setattr('/f', { mode: 0o100600, uid: 7, gid: 8, mtimeMs: 1234 })
    expect(await fs.getattr('/f')).toMatchObject({ mode: 0o600, uid: 7, gid: 8, mtimeMs: 1234 })
    await fs.symlink('../target', '/s')
    expect(await fs.readlink('/s')).toBe('../target')
    await expect(fs.readlink('/f')).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.truncate('/', 0)).rejects.toMatchObject({ errno: 'EISDIR' })
    await expect(fs.write('/f', -1, text('x'))).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.write('/', 0, text('x'))).rejects.toMatchObject({ errno: 'EISDIR' })
    await fs.close()
  })

  test('commit writes a whole close as one record, large data through blobs', async () => {
    // Goal: one record per close; big data chunked into the blob store; staged blobs usable.
    const fs = await solo()
    await fs.create('/big')
    const big = new Uint8Array(200_000).map((_, i) => i % 251)
    const staged = await fs.putBlob(new Uint8Array(10).fill(9))
    const before = fs.versionVector()
    await fs.commit('/big', {
      writes: [
        { offset: 0, data: big },
        { offset: 300_000, ...staged }
      ],
      size: 300_010
    })
    const after = fs.versionVector()
    const author = [...after.keys()][0] as string
    expect((after.get(author) ?? 0) - (before.get(author) ?? 0)).toBe(1)
    expect(await fs.read('/big', 199_990, 10)).toEqual(big.subarray(199_990))
    expect(await fs.read('/big', 300_000, 100)).toEqual(new Uint8Array(10).fill(9))
    expect((await fs.getattr('/big')).size).toBe(300_010)
    await fs.close()
  })

  test('names and paths are validated (ENAMETOOLONG, EINVAL, ENOENT, ENOTDIR)', async () => {
    // Goal: bad paths fail with typed errors before anything is appended.
    const fs = await solo()
    await fs.create('/f')
    await expect(fs.create('/' + 'n'.repeat(256))).rejects.toMatchObject({ errno: 'ENAMETOOLONG' })
    await expect(fs.create('relative')).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.create('/missing/f')).rejects.toMatchObject({ errno: 'ENOENT' })
    await expect(fs.create('/f/g')).rejects.toMatchObject({ errno: 'ENOTDIR' })
    await expect(fs.mkdir('/')).rejects.toMatchObject({ errno: 'EINVAL' })
    await fs.close()
    await expect(fs.create('/x')).rejects.toMatchObject({ errno: 'EBADF' })
  })

  test('history lists the records that touched a path; subscribers hear about changes', async () => {
    // Goal: history(path) and subscribe() for FUSE invalidation and the CLI.
    const fs = await solo()
    const changes: string[][] = []
    fs.subscribe((change) => changes.push([...change.inos]))
    await fs.create('/f')
    await fs.write('/f', 0, text('1'))
    await fs.write('/f', 0, text('2'))
    const history = await fs.history('/f')
    expect(history.map((h) => h.ops.map((op) => op.type).join('+'))).toEqual(['inode+link', 'write', 'write'])
    expect(changes.length).toBe(3)
    expect(changes[2]).toContain(await fs.handle('/f'))
    expect(fs.members()).toHaveLength(1)
    await fs.close()
  })
})
