/**
 * The side protocols of reliability-hostile.test.ts: a hostile member on /ivyfs/blob/1 (unknown
 * chunks, fuzzed requests) and an outsider on /ivyfs/join/1 and /ivyfs/replicate/1. Every answer
 * must be an answer, a refusal or an abort, never a crash; what is wrong goes into `findings`.
 */
import type { Stream } from '@libp2p/interface'
import {
  BLOB_PROTOCOL,
  JOIN_PROTOCOL,
  decodeBlobResponse,
  encodeBlobRequest,
  encodeFrame,
  encodeJoinRequest,
  writeFrame
} from '@ivyfs/net'
import { mutate } from './hostile-attacks.js'
import { readFrames, type HostilePeer } from './hostile-peer.js'
import type { Prng } from './soak.js'

/** The first `count` frames the daemon sends on `stream` (fewer if it ends or `timeoutMs` passes). */
async function firstFrames(stream: Stream, count: number, timeoutMs: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = []
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    void readFrames(stream, (frame) => {
      frames.push(frame)
      if (frames.length >= count) resolve()
    }).then(() => resolve())
    void timer
  })
  await stream.close().catch(() => stream.abort(new Error('done')))
  return frames
}

/** Blob and join protocols, and a non-member: every answer is an answer, never a crash. */
export async function fuzzSideProtocols(
  rng: Prng,
  hostile: HostilePeer,
  outsider: HostilePeer,
  target: string,
  fsId: Uint8Array,
  findings: string[]
): Promise<void> {
  // A member asking for chunks nobody has gets `missing` for each.
  const chunks = Array.from({ length: rng.between(1, 64) }, () => ({
    id: rng.bytes(32),
    length: rng.between(1, 65536)
  }))
  const { stream } = await hostile.dial(target, BLOB_PROTOCOL)
  await writeFrame(stream, encodeBlobRequest({ t: 'get', chunks }))
  const answers = await firstFrames(stream, chunks.length, 10_000)
  const missing = answers.filter((frame) => decodeBlobResponse(frame).t === 'missing').length
  if (missing !== chunks.length)
    findings.push(`blob: ${chunks.length} unknown chunks asked, ${missing} answered missing`)
  // Fuzzed blob requests (from the member) and join requests (from an outsider): refused or aborted, nothing more.
  for (let i = 0; i < 8; i++) {
    const blob = await hostile.dial(target, BLOB_PROTOCOL)
    const valid = encodeBlobRequest({ t: 'get', chunks: [{ id: rng.bytes(32), length: 100 }] })
    blob.stream.send(encodeFrame(rng.chance(0.5) ? rng.bytes(rng.between(1, 300)) : mutate(rng, valid)))
    await firstFrames(blob.stream, 1, 10_000)
    const join_ = await outsider.dial(target, JOIN_PROTOCOL)
    const request = encodeJoinRequest({ t: 'join', fsId, ticketId: rng.bytes(16), proof: rng.bytes(32) })
    join_.stream.send(encodeFrame(rng.chance(0.5) ? request : mutate(rng, request)))
    await firstFrames(join_.stream, 1, 15_000)
  }
  // A non-member's replication is refused with a bye.
  const session = await outsider.replicate(target, fsId)
  const reason = await Promise.race([
    session.ended,
    new Promise<string>((resolve) => setTimeout(() => resolve('still open after 10 s'), 10_000))
  ])
  if (!session.received.some((m) => m.t === 'bye'))
    findings.push(`a non-member's session was not refused with a bye (${reason})`)
}
