#!/usr/bin/env node
// Reproduction (found by test/scenarios/reliability-hostile.test.ts, pinned by the FrameReader test
// of reliability-fuzz-wire.test.ts): packages/net/src/frame.ts FrameReader loses a frame that libp2p
// buffered before the reader was attached, when the remote had already closed its write side.
// The constructor sees remoteWriteStatus === 'closed' and sets `ended`; libp2p dispatches the
// buffered bytes to the new 'message' listener only in a microtask, so next() returns null first.
// A peer that answers and closes at once is this case: the `bye` refusing a non-member's session
// is then read as a plain end of stream (about one time in three on loopback in the hostile test).
// Fixed in a734740; kept as a regression check. Run `npx tsc -b` first. Prints "lost" while the
// bug is there, "kept" once it is fixed (exit code 1 / 0).
import { KeyPair } from '../../../packages/log/dist/index.js'
import { FrameReader, createNode, writeFrame } from '../../../packages/net/dist/index.js'

const server = await createNode({ keys: KeyPair.generate(), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
const client = await createNode({ keys: KeyPair.generate(), listen: [], mdns: false })
try {
  await server.start()
  await client.start()
  await server.handle('/repro/answer-and-close/1', async (stream) => {
    await writeFrame(stream, new TextEncoder().encode('bye: not a member'))
    await stream.close()
  })
  const stream = await client.dialProtocol(server.getMultiaddrs()[0], '/repro/answer-and-close/1', {
    negotiateFully: true
  })
  for (let i = 0; i < 400 && stream.remoteWriteStatus !== 'closed'; i++)
    await new Promise((resolve) => setTimeout(resolve, 5))
  console.log(
    `remote write side: ${stream.remoteWriteStatus}, bytes buffered by libp2p: ${stream.readBufferLength}`
  )
  const frame = await new FrameReader(stream).next(AbortSignal.timeout(5000))
  console.log(
    frame === null ? 'lost: next() returned null (clean end)' : `kept: ${new TextDecoder().decode(frame)}`
  )
  process.exitCode = frame === null ? 1 : 0
} finally {
  await client.stop()
  await server.stop()
}
