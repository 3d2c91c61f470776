import { afterEach, describe, expect, test } from 'vitest'
import {
  Harness,
  Members,
  appendMany,
  eventually,
  seededKeys,
  snapshot,
  testFs,
  vvEqual,
  type TestNode
} from './helpers.js'

const harness = new Harness()
afterEach(async () => harness.cleanup())

function portOf(node: TestNode): string {
  const match = /\/tcp\/(\d+)\//.exec(node.network.addresses()[0]!)
  return match![1]!
}

describe('reconnect', () => {
  test('a node stopped and restarted on the same port is redialed and both sides catch up', async () => {
    // Goal: after a restart, peers find the node again by itself and exchange what they missed.
    const [a, b, c] = [seededKeys('a'), seededKeys('b'), seededKeys('c')]
    const fs = testFs(a)
    const members = new Members(a, b, c)
    const nodeA = await harness.node(fs, a, { members })
    let nodeB = await harness.node(fs, b, { members })
    const nodeC = await harness.node(fs, c, { members })
    for (const node of [nodeA, nodeB, nodeC]) await node.network.start()
    // B dials both: only B knows the others' addresses, so A and C must redial B from what they learned.
    await nodeB.network.dial(nodeA.network.addresses()[0]!)
    await nodeB.network.dial(nodeC.network.addresses()[0]!)
    await eventually('all three converge', () =>
      [nodeB, nodeC].every((n) => vvEqual(n.store.versionVector(), nodeA.store.versionVector()))
    )
    const port = portOf(nodeB)
    const pathB = nodeB.path

    await harness.stopNode(nodeB)
    await appendMany(nodeA.store, 5, 'a-while-b-away')
    await appendMany(nodeC.store, 3, 'c-while-b-away')
    nodeB = await harness.node(fs, b, { members, path: pathB, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    await appendMany(nodeB.store, 2, 'b-offline')
    await nodeB.network.start()

    await eventually('A and C redial B and everyone catches up', () =>
      [nodeB, nodeC].every((n) => vvEqual(n.store.versionVector(), nodeA.store.versionVector()))
    )
    expect(nodeB.store.length(a.publicKey)).toBe(6)
    expect(nodeA.store.length(b.publicKey)).toBe(2)
    expect(await snapshot(nodeB.store)).toEqual(await snapshot(nodeA.store))
    expect(nodeA.network.peers().find((peer) => peer.key === nodeB.network.key)?.replicating).toBe(true)
  })
})
