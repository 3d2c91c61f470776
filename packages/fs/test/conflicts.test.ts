import { describe, expect, test } from 'vitest'
import { closeAll, decodeText, makePeers, syncAll, text } from './helpers/sim.js'

async function pair(lockMode: 'available' | 'strict' = 'available') {
  const [a, b] = await makePeers(['a', 'b'], { lockMode })
  return [a!, b!] as const
}

describe('conflict detection', () => {
  test('concurrent writes to the same bytes: one shows, the other is readable, then resolvable', async () => {
    // Goal: same bytes conflict, both versions readable, Resolve closes it on every peer.
    const [a, b] = await pair()
    await a.fs.create('/f')
    syncAll([a, b])
    await a.fs.write('/f', 0, text('AAAA'))
    await b.fs.write('/f', 0, text('BBBB'))
    syncAll([a, b])
    const [conflict] = await a.fs.conflicts('/f')
    expect(conflict?.kind).toBe('data')
    const shown = decodeText(await a.fs.read('/f', 0, 4))
    expect(decodeText(await a.fs.readVersion(conflict!.id, 'winner', 0, 4))).toBe(shown)
    const hidden = decodeText(await a.fs.readVersion(conflict!.id, 'loser', 0, 4))
    expect(new Set([shown, hidden])).toEqual(new Set(['AAAA', 'BBBB']))
    await b.fs.resolve(conflict!.id, { keep: 'theirs' })
    syncAll([a, b])
    expect(decodeText(await a.fs.read('/f', 0, 4))).toBe(hidden)
    expect(await a.fs.conflicts()).toEqual([])
    expect((await a.fs.conflicts('/', { includeResolved: true }))[0]?.resolved).toBe(true)
    expect(a.fs.conflictIndexHash()).toBe(b.fs.conflictIndexHash())
    await closeAll([a, b])
  })

  test('writes to different byte ranges and identical concurrent writes are not conflicts', async () => {
    // Goal: Ivy semantics: different ranges both take effect; identical changes are no conflict.
    const [a, b] = await pair()
    await a.fs.create('/f')
    syncAll([a, b])
    await a.fs.write('/f', 0, text('aa'))
    await b.fs.write('/f', 4, text('bb'))
    await a.fs.setattr('/f', { mode: 0o600 })
    await b.fs.setattr('/f', { mode: 0o600 })
    syncAll([a, b])
    expect(decodeText(await a.fs.read('/f', 0, 6))).toBe('aa\0\0bb')
    expect(await a.fs.conflicts()).toEqual([])
    await closeAll([a, b])
  })

  test('concurrent chmods to different values are an attribute conflict', async () => {
    // Goal: same attribute, different values: reported with both values.
    const [a, b] = await pair()
    await a.fs.create('/f')
    syncAll([a, b])
    await a.fs.setattr('/f', { mode: 0o600 })
    await b.fs.setattr('/f', { mode: 0o640 })
    syncAll([a, b])
    const [conflict] = await b.fs.conflicts()
    expect(conflict?.kind).toBe('attr')
    expect(new Set([conflict?.winner.version.value, conflict?.loser.version.value])).toEqual(
      new Set([0o600, 0o640])
    )
    await closeAll([a, b])
  })

  test.each(['available', 'strict'] as const)(
    'two concurrent plain creates of one file name (%s mode) are an entry conflict; both files stay readable',
    async (lockMode) => {
      // Goal: double creation is reported and the hidden file is reachable. A plain create (no
      // O_EXCL) is decided locally in strict mode too: only exclusive creates wait for a majority.
      const [a, b] = await pair(lockMode)
      await a.fs.create('/n')
      await a.fs.write('/n', 0, text('from a'))
      await b.fs.create('/n')
      await b.fs.write('/n', 0, text('from b'))
      expect(a.fs.lockStats().pendingPrepares + b.fs.lockStats().pendingPrepares).toBe(0)
      syncAll([a, b])
      const [conflict] = await a.fs.conflicts()
      expect(conflict?.kind).toBe('entry')
      const shown = decodeText(await a.fs.read('/n', 0, 10))
      const hidden = decodeText(await a.fs.readVersion(conflict!.id, 'loser', 0, 10))
      expect(new Set([shown, hidden])).toEqual(new Set(['from a', 'from b']))
      expect(a.fs.treeHash()).toBe(b.fs.treeHash())
      await closeAll([a, b])
    }
  )

  test('two concurrent mkdirs of one name merge into one directory (available mode)', async () => {
    // Goal: DESIGN §4: mkdir races in available mode merge, with the contents of both.
    const [a, b] = await pair()
    await a.fs.mkdir('/d')
    await b.fs.mkdir('/d')
    await a.fs.create('/d/from-a')
    await b.fs.create('/d/from-b')
    syncAll([a, b])
    expect((await a.fs.readdir('/d')).map((e) => e.name)).toEqual(['from-a', 'from-b'])
    expect(await a.fs.conflicts()).toEqual([])
    expect(a.fs.treeHash()).toBe(b.fs.treeHash())
    await closeAll([a, b])
  })

  test('concurrent renames that would make a cycle: the later is dropped and flagged', async () => {
    // Goal: mv /p /q/p and mv /q /p/q concurrently never put a directory below itself.
    const [a, b] = await pair()
    await a.fs.mkdir('/p')
    await a.fs.mkdir('/q')
    syncAll([a, b])
    await a.fs.rename('/p', '/q/p')
    await b.fs.rename('/q', '/p/q')
    syncAll([a, b])
    expect(a.fs.treeHash()).toBe(b.fs.treeHash())
    const names = (await a.fs.readdir('/')).map((e) => e.name)
    expect(names.length).toBe(1)
    const [conflict] = await a.fs.conflicts()
    expect(conflict?.kind).toBe('rename-cycle')
    await closeAll([a, b])
  })

  test('rmdir against a concurrent create inside: the directory stays and the conflict is reported', async () => {
    // Goal: rmdir only when empty, even in the merged view.
    const [a, b] = await pair()
    await a.fs.mkdir('/d')
    syncAll([a, b])
    await a.fs.rmdir('/d')
    await b.fs.create('/d/new')
    syncAll([a, b])
    expect(a.fs.treeHash()).toBe(b.fs.treeHash())
    const conflicts = await a.fs.conflicts()
    expect(conflicts.map((c) => c.kind)).toContain('remove-change')
    if (!a.fs.exists('/d/new')) {
      const conflict = conflicts.find((c) => c.kind === 'remove-change')!
      await a.fs.resolve(conflict.id, { keep: 'theirs' })
      syncAll([a, b])
      expect(b.fs.exists('/d/new')).toBe(true)
    }
    await closeAll([a, b])
  })

  test('a write concurrent with the unlink of the file is a remove-change conflict; the data stays readable', async () => {
    // Goal: nothing a user wrote is unreachable.
    const [a, b] = await pair()
    await a.fs.create('/f')
    syncAll([a, b])
    await a.fs.unlink('/f')
    await b.fs.write('/f', 0, text('late words'))
    syncAll([a, b])
    const [conflict] = await a.fs.conflicts()
    expect(conflict?.kind).toBe('remove-change')
    const side = conflict!.loser.version.removed === false ? 'loser' : 'winner'
    expect(decodeText(await a.fs.readVersion(conflict!.id, side, 0, 20))).toBe('late words')
    await a.fs.resolve(conflict!.id, { keep: 'theirs' })
    syncAll([a, b])
    expect(decodeText(await b.fs.read('/f', 0, 20))).toBe('late words')
    await closeAll([a, b])
  })

  test("a remove-change conflict is listed under the removed file's path, whichever side the order puts first", async () => {
    // Goal: `conflicts(path)` (what `ivy conflicts PATH` asks) finds a change concurrent with an
    // unlink under the file's own path, not under its removed name `/~name`. Two files with the
    // roles swapped give both orders: the unlink first (the change detects the conflict) and the
    // change first (the unlink detects it).
    const [a, b] = await pair()
    await a.fs.create('/x')
    await a.fs.create('/y')
    syncAll([a, b])
    await a.fs.write('/x', 0, text('x changed on a'))
    await a.fs.unlink('/y')
    await b.fs.unlink('/x')
    await b.fs.write('/y', 0, text('y changed on b'))
    syncAll([a, b])
    expect(a.fs.conflictIndexHash()).toBe(b.fs.conflictIndexHash())
    for (const peer of [a, b]) {
      for (const path of ['/x', '/y']) {
        const listed = await peer.fs.conflicts(path)
        expect(listed.map((c) => c.kind)).toEqual(['remove-change'])
        expect(listed[0]?.paths).toEqual([path])
      }
    }
    await closeAll([a, b])
  })

  test('conflict ids and the index do not depend on arrival order', async () => {
    // Goal: determinism of ids: three peers, different delivery orders, same index.
    const [a, b, c] = await makePeers(['a', 'b', 'c'])
    await a!.fs.create('/f')
    syncAll([a!, b!, c!])
    await a!.fs.write('/f', 0, text('1'))
    await b!.fs.write('/f', 0, text('2'))
    await c!.fs.write('/f', 0, text('3'))
    syncAll([c!, b!, a!].reverse())
    syncAll([a!, b!, c!])
    expect(new Set([a, b, c].map((p) => p!.fs.conflictIndexHash())).size).toBe(1)
    expect((await a!.fs.conflicts()).length).toBeGreaterThanOrEqual(2)
    await closeAll([a!, b!, c!])
  })
})
