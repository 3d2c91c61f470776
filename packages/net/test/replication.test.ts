import { afterEach, describe, expect, test } from 'vitest'
import { bytesEqual } from '@ivyfs/log'
import {
  Harness,
  Members,
  appendBlob,
  appendMany,
  eventually,
  ino,
  pseudoRandomBytes,
  seededKeys,
  snapshot,
  testFs,
  vvEqual,
  type TestNode
} from './helpers.js'

const harness = new Harness()
afterEach(async () => harness.cleanup())

/** Many appends at once: the store group-commits them, so a long history builds quickly. */
async function appendBurst(node: TestNode, count: number, label: string): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, i) =>
      node.store.append([
        { type: 'link', dir: ino('root'), name: `${label}-${i}`, ino: ino(`${label}-${i}`) }
      ])
    )
  )
}

async function converged(...nodes: TestNode[]): Promise<boolean> {
  const [first, ...rest] = nodes
  return rest.every((node) => vvEqual(node.store.versionVector(), first!.store.versionVector()))
}

describe('replication between two nodes', () => {
  test('catch-up converges from different starting states, in both directions', async () => {
    // Goal: two members that each hold records the other lacks end with identical logs.
    const a = seededKeys('a')
    const b = seededKeys('b')
    const fs = testFs(a)
    const members = new Members(a, b)
    const nodeA = await harness.node(fs, a, { members })
    const nodeB = await harness.node(fs, b, { members })
    const early = await appendMany(nodeA.store, 3, 'a-early')
    const genesis = (await nodeA.store.get(a.publicKey, 0))!
    for (const record of [genesis, ...early]) await nodeB.store.ingest(record.bytes)
    await appendMany(nodeA.store, 20, 'a-late')
    await appendMany(nodeB.store, 15, 'b')
    await nodeA.network.start()
    await nodeB.network.start()
    await nodeB.network.dial(nodeA.network.addresses()[0]!)
    await eventually('both stores converge', () => converged(nodeA, nodeB))
    expect(await snapshot(nodeA.store)).toEqual(await snapshot(nodeB.store))
    expect(nodeB.store.length(a.publicKey)).toBe(24)
    expect(nodeA.store.length(b.publicKey)).toBe(15)
  })

  test('live push delivers new records and blobs, and peers() reports the session', async () => {
    // Goal: once connected, a record (with a blob) appended on one node appears on the other.
    const a = seededKeys('a')
    const b = seededKeys('b')
    const fs = testFs(a)
    const members = new Members(a, b)
    const nodeA = await harness.node(fs, a, { members })
    const nodeB = await harness.node(fs, b, { members })
    await nodeA.network.start()
    await nodeB.network.start()
    await nodeA.network.dial(nodeB.network.addresses()[0]!)
    await eventually('genesis replicated', () => converged(nodeA, nodeB))
    const data = pseudoRandomBytes(200_000, 3)
    const blob = await appendBlob(nodeA.store, data, 'file')
    await appendMany(nodeB.store, 5, 'b-live')
    await eventually('live records converge', () => converged(nodeA, nodeB))
    expect(bytesEqual(await nodeB.store.blobs.get(blob, data.byteLength), data)).toBe(true)
    // `lag` is by the peer's last Have (coalesced over a few ms), so it settles just after the stores.
    await eventually('B reports what it holds', () => nodeA.network.peers()[0]?.lag === 0)
    await eventually('latency measured', () => typeof nodeA.network.peers()[0]?.latencyMs === 'number')
    const [peer] = nodeA.network.peers()
    expect(peer).toMatchObject({
      key: nodeB.network.key,
      connected: true,
      replicating: true,
      lag: 0,
      behind: 0
    })
  })

  test('simultaneous dials in both directions end with one session per pair', async () => {
    // Goal: both sides keep the same one of two racing sessions, and replication goes on.
    const a = seededKeys('a')
    const b = seededKeys('b')
    const fs = testFs(a)
    const members = new Members(a, b)
    const nodeA = await harness.node(fs, a, { members })
    const nodeB = await harness.node(fs, b, { members })
    await nodeA.network.start()
    await nodeB.network.start()
    await Promise.all([
      nodeA.network.dial(nodeB.network.addresses()[0]!),
      nodeB.network.dial(nodeA.network.addresses()[0]!)
    ])
    await appendMany(nodeB.store, 3, 'b')
    await eventually('converged', () => converged(nodeA, nodeB))
    for (const node of [nodeA, nodeB]) {
      expect(node.network.peers().filter((peer) => peer.replicating)).toHaveLength(1)
    }
  })

  test('a 10 MB blob replicates intact', async () => {
    // Goal: a large multi-chunk blob (manifest + 160 chunks) arrives byte for byte.
    const a = seededKeys('a')
    const b = seededKeys('b')
    const fs = testFs(a)
    const members = new Members(a, b)
    const nodeA = await harness.node(fs, a, { members })
    const nodeB = await harness.node(fs, b, { members })
    const data = pseudoRandomBytes(10 * 1024 * 1024, 11)
    const blob = await appendBlob(nodeA.store, data, 'big')
    await nodeA.network.start()
    await nodeB.network.start()
    await nodeB.network.dial(nodeA.network.addresses()[0]!)
    await eventually('the record with the blob arrives', () => converged(nodeA, nodeB), 30_000)
    expect(await nodeB.store.blobs.has(blob, data.byteLength)).toBe(true)
    expect(bytesEqual(await nodeB.store.blobs.get(blob, data.byteLength), data)).toBe(true)
  })
})

describe('replication between three nodes', () => {
  test('a fresh member catches up a long history whose authors depend on each other', async () => {
    // Goal: catch-up streams two interleaved logs in causal order, so the newcomer ingests them all.
    const [a, b, d] = [seededKeys('a'), seededKeys('b'), seededKeys('d')]
    const fs = testFs(a)
    const members = new Members(a, b, d)
    const nodeA = await harness.node(fs, a, { members })
    const nodeB = await harness.node(fs, b, { members })
    await nodeA.network.start()
    await nodeB.network.start()
    await nodeB.network.dial(nodeA.network.addresses()[0]!)
    await eventually('genesis replicated', () => converged(nodeA, nodeB))
    // Alternate bursts, so each burst's first record depends on the other author's last one.
    for (let round = 0; round < 3; round++) {
      for (const [node, label] of [
        [nodeA, 'a'],
        [nodeB, 'b']
      ] as const) {
        await appendBurst(node, 100, `${label}${round}`)
        await eventually('A and B converge', () => converged(nodeA, nodeB))
      }
    }
    let crossDependencies = 0
    for await (const record of nodeA.store.range(b.publicKey, 0)) crossDependencies += record.body.vv.length
    const nodeD = await harness.node(fs, d, { members })
    await nodeD.network.start()
    await nodeD.network.dial(nodeA.network.addresses()[0]!)
    await eventually('the newcomer catches up', () => converged(nodeA, nodeD), 30_000)
    expect(nodeD.store.length(b.publicKey)).toBe(300)
    expect(crossDependencies).toBeGreaterThanOrEqual(3)
  })

  test('records and blobs are forwarded along a line A-B-C from different starting states', async () => {
    // Goal: C, connected only to B, gets A's records and pulls A's blobs from B (any member forwards);
    // each node starts with records the others lack, and live writes follow the catch-up.
    const [a, b, c] = [seededKeys('a'), seededKeys('b'), seededKeys('c')]
    const fs = testFs(a)
    const members = new Members(a, b, c)
    const nodeA = await harness.node(fs, a, { members })
    const nodeB = await harness.node(fs, b, { members })
    const nodeC = await harness.node(fs, c, { members })
    const before = pseudoRandomBytes(300_000, 5)
    const blobBefore = await appendBlob(nodeA.store, before, 'before')
    await appendMany(nodeA.store, 10, 'a')
    const genesis = (await nodeA.store.get(a.publicKey, 0))!
    await nodeC.store.ingest(genesis.bytes)
    const fromC = pseudoRandomBytes(100_000, 7)
    const blobFromC = await appendBlob(nodeC.store, fromC, 'from-c')
    await appendMany(nodeB.store, 3, 'b-offline')
    for (const node of [nodeA, nodeB, nodeC]) await node.network.start()
    await nodeB.network.dial(nodeA.network.addresses()[0]!)
    await nodeC.network.dial(nodeB.network.addresses()[0]!)
    await eventually('catch-up reaches every node', () => converged(nodeA, nodeB, nodeC))
    expect(bytesEqual(await nodeC.store.blobs.get(blobBefore, before.byteLength), before)).toBe(true)
    expect(bytesEqual(await nodeA.store.blobs.get(blobFromC, fromC.byteLength), fromC)).toBe(true)
    const after = pseudoRandomBytes(150_000, 6)
    const blobAfter = await appendBlob(nodeA.store, after, 'after')
    await appendMany(nodeC.store, 4, 'c')
    await eventually('live records reach every node', () => converged(nodeA, nodeB, nodeC))
    expect(bytesEqual(await nodeC.store.blobs.get(blobAfter, after.byteLength), after)).toBe(true)
    expect(nodeA.store.length(c.publicKey)).toBe(5)
    expect(nodeC.store.length(b.publicKey)).toBe(3)
  })

  test('a full mesh converges when every node writes at once', async () => {
    // Goal: concurrent writers in a triangle end with identical logs (duplicates are harmless).
    const [a, b, c] = [seededKeys('a'), seededKeys('b'), seededKeys('c')]
    const fs = testFs(a)
    const members = new Members(a, b, c)
    const nodes = [
      await harness.node(fs, a, { members }),
      await harness.node(fs, b, { members }),
      await harness.node(fs, c, { members })
    ] as const
    for (const node of nodes) await node.network.start()
    await nodes[1].network.dial(nodes[0].network.addresses()[0]!)
    await nodes[2].network.dial(nodes[0].network.addresses()[0]!)
    await nodes[2].network.dial(nodes[1].network.addresses()[0]!)
    await eventually('genesis everywhere', () => converged(...nodes))
    await Promise.all(nodes.map(async (node, i) => appendMany(node.store, 30, `n${i}`)))
    await eventually('mesh converges', () => converged(...nodes))
    const expected = await snapshot(nodes[0].store)
    for (const node of nodes) expect(await snapshot(node.store)).toEqual(expected)
  })
})
