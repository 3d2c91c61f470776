import { describe, expect, test } from 'vitest'
import { closeAll, decodeText, makePeers, syncAll, text } from './helpers/sim.js'

describe('the anomalies of the Ivy paper (§3.1), in ivyfs', () => {
  test('concurrent unlink("a") and rename("a","b"): both succeed, one takes effect, both are in the conflict index', async () => {
    // Goal: show what the merged view does and that neither side is silent or lost.
    const [x, y] = await makePeers(['x', 'y'])
    await x!.fs.create('/a')
    await x!.fs.write('/a', 0, text('precious'))
    syncAll([x!, y!])
    await x!.fs.unlink('/a')
    await y!.fs.rename('/a', '/b')
    syncAll([x!, y!])
    expect(x!.fs.treeHash()).toBe(y!.fs.treeHash())
    const conflicts = await x!.fs.conflicts()
    expect(conflicts).toHaveLength(1)
    const [conflict] = conflicts
    expect(conflict!.kind).toBe('remove-change')
    const authors = [conflict!.winner.author, conflict!.loser.author].sort()
    expect(authors).toEqual(
      [x!.log.keys, y!.log.keys].map((k) => Buffer.from(k.publicKey).toString('hex')).sort()
    )
    // Whichever won, the file's bytes stay readable through the conflict.
    const visible = x!.fs.exists('/b')
    expect(x!.fs.exists('/a')).toBe(false)
    const side = visible ? 'winner' : 'loser'
    expect(decodeText(await x!.fs.readVersion(conflict!.id, side, 0, 100))).toBe('precious')
    if (visible) await y!.fs.resolve(conflict!.id, { keep: 'ours' })
    else {
      await x!.fs.resolve(conflict!.id, { keep: 'theirs' })
      syncAll([x!, y!])
      expect(decodeText(await y!.fs.read('/a', 0, 100))).toBe('precious')
    }
    expect(await y!.fs.conflicts()).toHaveLength(0)
    await closeAll([x!, y!])
  })

  test('create(x)+link(x,y) against a concurrent remove(x): the order decides, the conflict index shows both', async () => {
    // Goal: the second anomaly; an observer may see x and y, then not x; y's data is never lost.
    const [p, q] = await makePeers(['p', 'q'])
    await p!.fs.create('/x')
    await p!.fs.write('/x', 0, text('data'))
    syncAll([p!, q!])
    await p!.fs.link('/x', '/y')
    await q!.fs.unlink('/x')
    syncAll([p!, q!])
    expect(p!.fs.treeHash()).toBe(q!.fs.treeHash())
    expect(p!.fs.exists('/x')).toBe(false)
    expect(decodeText(await p!.fs.read('/y', 0, 10))).toBe('data')
    expect((await p!.fs.getattr('/y')).nlink).toBe(1)
    await closeAll([p!, q!])
  })
})
