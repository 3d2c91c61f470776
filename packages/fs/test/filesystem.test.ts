import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog } from '../src/index.js'
import { decodeText, keyFor, text } from './helpers/sim.js'

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
})
