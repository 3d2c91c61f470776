import { afterEach, describe, expect, test } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { FORMAT_VERSION, sha256, signRecord, toHex } from '@ivyfs/log'
import {
  FrameReader,
  REPLICATE_PROTOCOL,
  REPLICATE_WIRE_VERSION,
  createNode,
  decodeReplicateMessage,
  encodeReplicateMessage,
  writeFrame,
  type IvyNode
} from '../src/index.js'
import { Harness, Members, appendMany, eventually, ino, seededKeys, testFs, vvEqual } from './helpers.js'

const harness = new Harness()
const rawNodes: IvyNode[] = []
afterEach(async () => {
  for (const node of rawNodes.splice(0)) await node.stop()
  await harness.cleanup()
})

/** A member speaking the protocol by hand: Hello sent, the honest node's Hello read. */
async function rawSession(keys: ReturnType<typeof seededKeys>, address: string, fsId: Uint8Array) {
  const node = await createNode({ keys, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  rawNodes.push(node)
  await node.start()
  const stream = await node.dialProtocol(multiaddr(address), REPLICATE_PROTOCOL)
  const reader = new FrameReader(stream)
  await writeFrame(
    stream,
    encodeReplicateMessage({ t: 'hello', version: REPLICATE_WIRE_VERSION, fsId, vv: new Map() })
  )
  expect(decodeReplicateMessage((await reader.next())!).t).toBe('hello')
  return { stream, reader }
}

describe('ordering', () => {
  test('records that arrive before their dependencies wait in the pending pool, then are stored', async () => {
    // Goal: out-of-order delivery (e.g. racing forwarders) loses nothing and stores nothing early.
    const [a, b, h] = [seededKeys('a'), seededKeys('b'), seededKeys('forwarder')]
    const fs = testFs(a)
    const members = new Members(a, b, h)
    const honest = await harness.node(fs, a, { members })
    const { store: storeB } = await harness.openStore(fs, b)
    await storeB.ingest((await honest.store.get(a.publicKey, 0))!.bytes)
    const fromB = await appendMany(storeB, 3, 'b')
    await honest.network.start()
    const { stream } = await rawSession(h, honest.network.addresses()[0]!, fs.fsId)
    for (const record of [fromB[2]!, fromB[1]!])
      await writeFrame(stream, encodeReplicateMessage({ t: 'rec', bytes: record.bytes }))
    const parked = (): number =>
      honest.logger.lines.filter((line) => line.message === 'record waits for a dependency').length
    await eventually('both early records are parked', () => parked() >= 2)
    expect(honest.store.length(b.publicKey)).toBe(0)
    await writeFrame(stream, encodeReplicateMessage({ t: 'rec', bytes: fromB[0]!.bytes }))
    await eventually('all three stored in order', () => honest.store.length(b.publicKey) === 3)
    expect(vvEqual(honest.store.versionVector(), storeB.versionVector())).toBe(true)
  })

  test('a record whose blob no peer has is not stored, and its sender is asked to resend', async () => {
    // Goal: a held record always has its data; a missing blob means a later retry, not a hole.
    const [a, h] = [seededKeys('a'), seededKeys('writer')]
    const fs = testFs(a)
    const honest = await harness.node(fs, a, { members: new Members(a, h) })
    await honest.network.start()
    const { stream, reader } = await rawSession(h, honest.network.addresses()[0]!, fs.fsId)
    const blob = sha256(new TextEncoder().encode('data nobody has'))
    const record = signRecord(h, {
      version: FORMAT_VERSION,
      fsId: fs.fsId,
      author: h.publicKey,
      seq: 0,
      prev: null,
      vv: [],
      timeMs: 1,
      ops: [{ type: 'write', ino: ino('f'), offset: 0, length: 1000, blob }]
    })
    await writeFrame(stream, encodeReplicateMessage({ t: 'rec', bytes: record.bytes }))
    let resync = false
    while (!resync) {
      const frame = await reader.next()
      if (frame === null) break
      const message = decodeReplicateMessage(frame)
      resync = message.t === 'have' && message.reset
    }
    expect(resync).toBe(true)
    expect(honest.store.length(h.publicKey)).toBe(0)
    expect(honest.logger.has('warn', 'could not be fetched')).toBe(true)
    expect(toHex(record.body.author)).toBe(toHex(h.publicKey))
  })
})
