import { afterEach, describe, expect, test } from 'vitest'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { FORMAT_VERSION, signRecord, toHex, type KeyPair, type RecordBody } from '@ivyfs/log'
import {
  BLOB_PROTOCOL,
  FRAME_BYTES_MAX,
  FrameReader,
  REPLICATE_PROTOCOL,
  REPLICATE_WIRE_VERSION,
  createNode,
  encodeBlobRequest,
  encodeFrame,
  encodeReplicateMessage,
  peerIdOfKey,
  writeFrame,
  type IvyNode
} from '../src/index.js'
import {
  Harness,
  Members,
  appendBlob,
  appendMany,
  eventually,
  pseudoRandomBytes,
  seededKeys,
  snapshot,
  testFs,
  vvEqual,
  type TestFs,
  type TestNode
} from './helpers.js'

const harness = new Harness()
const rawNodes: IvyNode[] = []
afterEach(async () => {
  for (const node of rawNodes.splice(0)) await node.stop()
  await harness.cleanup()
})

function body(keys: KeyPair, fs: TestFs, fields: Partial<RecordBody>): RecordBody {
  return {
    version: FORMAT_VERSION,
    fsId: fs.fsId,
    author: keys.publicKey,
    seq: 0,
    prev: null,
    vv: [],
    timeMs: 1,
    ops: [{ type: 'ack' }],
    ...fields
  }
}

interface Attack {
  name: string
  /** The error the honest node names when it disconnects the attacker. */
  error: string
  /** Hello to send first (a correct one unless the attack is the Hello itself). */
  hello?: (fs: TestFs) => Uint8Array
  send: (stream: Stream, context: { fs: TestFs; honest: TestNode; hostile: KeyPair }) => Promise<void>
}

const attacks: Attack[] = [
  {
    name: 'garbage frames',
    error: 'MalformedMessageError',
    send: async (stream) => writeFrame(stream, pseudoRandomBytes(4000, 99))
  },
  {
    name: 'an oversized frame',
    error: 'FrameTooLargeError',
    send: async (stream) => {
      const header = new Uint8Array(4)
      new DataView(header.buffer).setUint32(0, FRAME_BYTES_MAX + 1)
      stream.send(header)
    }
  },
  {
    name: 'a forged record (signed by another key than its author)',
    error: 'BadRecordError',
    send: async (stream, { fs, honest, hostile }) => {
      const prev = (await honest.store.get(honest.keys.publicKey, 2))!
      const forged = signRecord(
        hostile,
        body(hostile, fs, { author: honest.keys.publicKey, seq: 3, prev: prev.id })
      )
      await writeFrame(stream, encodeReplicateMessage({ t: 'rec', bytes: forged.bytes }))
    }
  },
  {
    name: 'a record for another filesystem',
    error: 'BadRecordError',
    send: async (stream, { hostile }) => {
      const other = testFs(hostile, 42)
      const record = signRecord(hostile, body(hostile, other, { ops: other.genesisOps }))
      await writeFrame(stream, encodeReplicateMessage({ t: 'rec', bytes: record.bytes }))
    }
  },
  {
    name: 'a flood of resync requests',
    error: 'UnexpectedMessageError',
    send: async (stream) => {
      const reset = encodeReplicateMessage({ t: 'have', vv: new Map(), reset: true })
      for (let i = 0; i < 3; i++) await writeFrame(stream, reset)
    }
  },
  {
    name: 'a Hello for another filesystem',
    error: 'WrongFilesystemError',
    hello: () =>
      encodeReplicateMessage({
        t: 'hello',
        version: REPLICATE_WIRE_VERSION,
        fsId: new Uint8Array(32).fill(1),
        vv: new Map()
      }),
    send: async () => undefined
  }
]

describe('a hostile member', () => {
  test.each(attacks)(
    'sending $name is disconnected; the honest node keeps serving and its store is unchanged',
    async (attack) => {
      // Goal: bad input from one peer costs that peer its connection and nothing else.
      const [a, c, h] = [seededKeys('a'), seededKeys('c'), seededKeys('hostile')]
      const fs = testFs(a)
      const members = new Members(a, c, h)
      const honest = await harness.node(fs, a, { members })
      const third = await harness.node(fs, c, { members })
      await appendMany(honest.store, 2, 'a')
      await honest.network.start()
      await third.network.start()
      await third.network.dial(honest.network.addresses()[0]!)
      await eventually('third node caught up', () =>
        vvEqual(third.store.versionVector(), honest.store.versionVector())
      )
      const before = await snapshot(honest.store)
      const misbehaved: string[] = []
      honest.network.on('peer:misbehaved', ({ peer, error }) => misbehaved.push(`${peer}:${error}`))

      const hostile = await createNode({ keys: h, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
      rawNodes.push(hostile)
      await hostile.start()
      const stream = await hostile.dialProtocol(multiaddr(honest.network.addresses()[0]!), REPLICATE_PROTOCOL)
      const reader = new FrameReader(stream)
      const hello =
        attack.hello?.(fs) ??
        encodeReplicateMessage({ t: 'hello', version: REPLICATE_WIRE_VERSION, fsId: fs.fsId, vv: new Map() })
      await writeFrame(stream, hello)
      await attack.send(stream, { fs, honest, hostile: h })
      await eventually(
        'the hostile peer is disconnected',
        () => hostile.getConnections(peerIdOfKey(a.publicKey)).length === 0
      )
      void reader

      expect(misbehaved).toEqual([`${toHex(h.publicKey)}:${attack.error}`])
      expect(honest.logger.has('warn', 'broke the protocol')).toBe(true)
      expect(await snapshot(honest.store)).toEqual(before)
      await appendMany(honest.store, 3, 'after')
      await eventually('the honest node still serves the third', () => third.store.length(a.publicKey) === 6)
    }
  )

  test('blob requests from a non-member are refused', async () => {
    // Goal: file data is served to members only.
    const a = seededKeys('a')
    const fs = testFs(a)
    const honest = await harness.node(fs, a, { members: new Members(a) })
    const data = pseudoRandomBytes(1000, 1)
    const blob = await appendBlob(honest.store, data, 'secret-file')
    await honest.network.start()
    const outsider = await createNode({
      keys: seededKeys('outsider'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false
    })
    rawNodes.push(outsider)
    await outsider.start()
    const stream = await outsider.dialProtocol(multiaddr(honest.network.addresses()[0]!), BLOB_PROTOCOL, {
      negotiateFully: true
    })
    const reader = new FrameReader(stream)
    if (stream.writeStatus === 'writable')
      stream.send(
        encodeFrame(encodeBlobRequest({ t: 'get', chunks: [{ id: blob, length: data.byteLength }] }))
      )
    await expect(reader.next()).rejects.toBeInstanceOf(Error)
    expect(honest.logger.has('warn', 'non-member')).toBe(true)
  })
})
