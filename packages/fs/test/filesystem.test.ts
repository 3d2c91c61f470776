import { describe, expect, test } from 'vitest'
import { Filesystem, INLINE_BYTES_MAX, MemoryLog } from '../src/index.js'
import { closeAll, decodeText, keyFor, makePeers, syncAll, text } from './helpers/sim.js'

async function single(): Promise<Filesystem> {
  return Filesystem.createOn(new MemoryLog(keyFor('solo')), { lockMode: 'strict', uid: 1000, gid: 1000 })
}

describe('Filesystem (one member, memory log)', () => {
  test('creates, writes, reads and lists files', async () => {
    // Goal: the basic POSIX path of one participant works end to end.
    const fs = await single()
    await fs.mkdir('/docs')
    await fs.create('/docs/a.txt')
    await fs.write('/docs/a.txt', 0, text('hello world'))
    await fs.write('/docs/a.txt', 6, text('WORLD!'))
    expect(decodeText(await fs.read('/docs/a.txt', 0, 100))).toBe('hello WORLD!')
    const attr = await fs.getattr('/docs/a.txt')
    expect(attr).toMatchObject({ kind: 'file', size: 12, nlink: 1, uid: 1000, mode: 0o644 })
    expect((await fs.readdir('/docs')).map((e) => e.name)).toEqual(['a.txt'])
    expect((await fs.getattr('/')).nlink).toBe(3)
    await fs.close()
  })

  test("readInto fills the caller's buffer exactly as read answers: holes, inline and blob bytes", async () => {
    // Goal: the FUSE read path (the kernel's buffer, filled in place) sees the same bytes as read.
    const fs = await single()
    await fs.create('/f')
    const big = new Uint8Array(5 * INLINE_BYTES_MAX + 17).map((_, i) => (i * 7) % 251)
    await fs.write('/f', 3000, big) // a blob extent after a hole
    await fs.write('/f', 10, text('inline bytes')) // an inline extent inside the hole
    const size = (await fs.getattr('/f')).size
    expect(size).toBe(3000 + big.byteLength)
    for (const offset of [0, 5, 2990, 3000 + INLINE_BYTES_MAX, size - 1, size, size + 5])
      for (const length of [1, 16, 4096, size]) {
        const expected = await fs.read('/f', offset, length)
        const target = new Uint8Array(length + 8).fill(0xee) // garbage readInto must overwrite
        const got = await fs.readInto('/f', offset, target.subarray(0, length))
        expect(got, `offset ${offset} length ${length}`).toBe(expected.byteLength)
        expect(Buffer.from(target.subarray(0, got)).equals(Buffer.from(expected))).toBe(true)
        expect(target.subarray(got).every((byte) => byte === 0xee)).toBe(true)
      }
    const ino = await fs.handle('/f')
    const kinds = fs.view.state.inode(ino)?.extents.map((extent) => extent.kind)
    expect(kinds).toEqual(expect.arrayContaining(['inline', 'blob']))
    const target = new Uint8Array(32)
    expect(await fs.readInoInto(ino, 2995, target)).toBe(32)
    expect(Buffer.from(target).equals(Buffer.from(await fs.read('/f', 2995, 32)))).toBe(true)
    await expect(fs.readInto('/f', -1, target)).rejects.toMatchObject({ errno: 'EINVAL' })
    await expect(fs.readInto('/', 0, target)).rejects.toMatchObject({ errno: 'EISDIR' })
    await fs.close()
  })
})

describe('change subscribers', () => {
  test('a change is local for our own records and not for another peer’s', async () => {
    // Goal: the mount invalidates the kernel's caches only for changes made elsewhere.
    const [a, b] = await makePeers(['a', 'b'], { lockMode: 'available' })
    const changes: boolean[] = []
    const unsubscribe = a!.fs.subscribe((change) => {
      if (change.inos.length > 0) changes.push(change.local)
    })
    await a!.fs.create('/mine')
    expect(changes).toEqual([true])
    await b!.fs.create('/theirs')
    syncAll([a!, b!])
    await a!.fs.getattr('/theirs') // applies what the log announced
    expect(changes).toEqual([true, false])
    unsubscribe()
    await closeAll([a!, b!])
  })
})
