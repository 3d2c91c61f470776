// Reliability: one write and one unlink of the same file on the two sides of a partition (issue 8),
// deterministic; the random partitions are in reliability-partitions.test.ts.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { PartitionCluster } from '../helpers/partition-cluster.js'

interface ConflictSide {
  contentBase64: string
}

interface ConflictDetail {
  id: string
  kind: string
  content: Partial<Record<'winner' | 'loser' | 'base', ConflictSide>>
}

const b64 = (text: string): string => Buffer.from(text).toString('base64')

describe('a change and an unlink across a partition', () => {
  let root: string | undefined
  let cluster: PartitionCluster | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && cluster !== undefined) console.error(await cluster.logs(40))
    await cluster?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
    root = cluster = undefined
  })

  test('a write and an unlink of one file on the two sides of a partition: the change stays reachable, listed under its path', async () => {
    // Goal: one side changes a file the other side removes; whichever the order puts first, the
    // change stays in the tree or in a remove-change conflict, and `conflicts PATH` (what
    // `ivy conflicts PATH` asks) lists that conflict under the file's path. Two files with the
    // roles swapped give both orders (equal lamport clocks: the author keys break the tie one way
    // for one file and the other way for the other).
    root = await mkdtemp(join(tmpdir(), 'ivyfs-partitions-unlink-'))
    cluster = await PartitionCluster.start(root, 2, 'available')
    const zero = cluster.at(0)
    await zero.call('fs.write', { path: '/a', dataBase64: b64('base of a') })
    await zero.call('fs.write', { path: '/b', dataBase64: b64('base of b') })
    await cluster.converged()
    await cluster.partition([[1]])
    await zero.call('fs.write', { path: '/a', dataBase64: b64('a changed on 0') })
    await zero.call('fs.unlink', { path: '/b' })
    await cluster.at(1).call('fs.unlink', { path: '/a' })
    await cluster.at(1).call('fs.write', { path: '/b', dataBase64: b64('b changed on 1') })
    await cluster.heal()
    await cluster.converged()
    const reference = cluster.at(0)
    const unreachable: string[] = []
    const unlisted: string[] = []
    for (const [path, content] of [
      ['/a', 'a changed on 0'],
      ['/b', 'b changed on 1']
    ] as const) {
      const inTree = await reference
        .call<{ dataBase64: string }>('fs.read', { path })
        .then((r) => Buffer.from(r.dataBase64, 'base64').toString() === content)
        .catch(() => false)
      const listed = await reference.call<Array<{ id: string; kind: string; paths: string[] }>>('conflicts', {
        path
      })
      const all = await reference.call<Array<{ id: string; kind: string; paths: string[] }>>('conflicts', {})
      let inConflict = false
      for (const { id } of all) {
        const detail = await reference.call<ConflictDetail>('conflict', { id })
        for (const side of Object.values(detail.content))
          if (side !== undefined && Buffer.from(side.contentBase64, 'base64').toString() === content)
            inConflict = true
      }
      if (!inTree && !inConflict) unreachable.push(`${path}: "${content}"`)
      if (!inTree && listed.length === 0)
        unlisted.push(`${path}: listed under ${JSON.stringify(all.map((c) => c.paths))}, none under ${path}`)
    }
    expect(
      unreachable,
      `a change concurrent with an unlink is unreachable:\n${unreachable.join('\n')}`
    ).toEqual([])
    expect(
      unlisted,
      'BUG packages/fs/src/apply-data.ts checkChangeOfRemoved: the remove-change conflict it records (the ' +
        'change sorts after the unlink) names the file by pathOf(state, ino), the removed inode\'s "/~name", not ' +
        'its last path (inode.lastPlace, as dropPlace in names.ts does), so conflicts {path} (ivy conflicts PATH) ' +
        'does not list it:\n' +
        unlisted.join('\n')
    ).toEqual([])
  }, 60_000)
})
