import { afterEach, describe, expect, test } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { FrameReader, createNode, writeFrame, type IvyNode } from '../src/index.js'
import { pseudoRandomBytes, seededKeys } from './helpers.js'

const PROTOCOL = '/ivyfs-test/backpressure/1'
const nodes: IvyNode[] = []
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop()
})

async function startNode(label: string): Promise<IvyNode> {
  const node = await createNode({ keys: seededKeys(label), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  await node.start()
  nodes.push(node)
  return node
}

/** Every way a stream can end badly: abort (ours), reset (the remote's), close with an error. */
function countResets(stream: Stream, into: { resets: number; errors: string[] }): void {
  const note = (what: string) => (event: Event) => {
    const error = (event as Event & { error?: Error }).error
    if (what === 'close' && error === undefined) return
    into.resets++
    into.errors.push(`${what}: ${error?.name ?? ''} ${error?.message ?? ''}`)
  }
  stream.addEventListener('abort', note('abort'))
  stream.addEventListener('reset', note('reset'))
  stream.addEventListener('close', note('close'))
}

describe('backpressure over yamux', () => {
  test('a slow reader that pauses and resumes many times never overflows its stream buffer', async () => {
    // Goal: pausing the stream (the reader's queue is full) must stop yamux from granting window
    // until the reader resumes, whatever the sizes of frames and network chunks. Before the fix a
    // resume that refilled the queue re-paused the stream inside resume(), after which yamux kept
    // granting window: the read buffer grew past its limit and the stream was reset
    // (StreamBufferError). A consumer slower than the sender (as a receiver waiting on fsyncs is)
    // makes that happen within a few resumes. ~50 MiB of mostly chunk-sized frames.
    const queueBytesMax = 256 * 1024
    const sender = await startNode('bp sender')
    const receiver = await startNode('bp receiver')
    const events = { resets: 0, errors: [] as string[] }
    const frames = 800
    const sizes = [65_536, 65_536, 65_536, 1_200, 65_536, 300_000, 17]
    let received = 0
    let receivedBytes = 0
    let readerDone!: () => void
    const finished = new Promise<void>((resolve) => (readerDone = resolve))
    await receiver.handle(PROTOCOL, async (stream) => {
      countResets(stream, events)
      const reader = new FrameReader(stream, { queueBytesMax })
      try {
        for (;;) {
          const frame = await reader.next()
          if (frame === null) break
          expect(frame.byteLength).toBe(sizes[received % sizes.length])
          received++
          receivedBytes += frame.byteLength
          // A slow consumer: the queue fills up while it waits, so the stream pauses and resumes.
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
      } finally {
        readerDone()
      }
    })
    const connection = await sender.dial(multiaddr(receiver.getMultiaddrs()[0]!.toString()))
    const stream = await connection.newStream(PROTOCOL)
    countResets(stream, events)
    const payloads = sizes.map((size, i) => pseudoRandomBytes(size, i + 1))
    let sentBytes = 0
    try {
      for (let i = 0; i < frames; i++) {
        const payload = payloads[i % payloads.length]!
        sentBytes += payload.byteLength
        await writeFrame(stream, payload)
      }
      await stream.close()
    } catch (err) {
      events.errors.push(`sender: ${String(err)}`)
    }
    // Bounded by the test timeout; a reset ends the reader early, and the counts below say so.
    await finished
    expect(events.errors).toEqual([])
    expect(events.resets).toBe(0)
    expect(received).toBe(frames)
    expect(receivedBytes).toBe(sentBytes)
  })
})
