/**
 * Feeding FrameReader by hand for reliability-fuzz-wire.test.ts: a fake libp2p stream, random
 * chunking of a byte stream, and a bounded read of everything the reader yields.
 */
import { FrameReader } from '@ivyfs/net'
import type { Prng } from './soak.js'

/** How long readAll waits after the stream ended before it calls the reader hung. */
export const READ_HUNG_MS = 5000

/** Just enough of a libp2p stream for FrameReader: message, remoteCloseWrite and close events. */
export class FakeStream extends EventTarget {
  maxReadBufferLength = 4 * 1024 * 1024
  status = 'open'
  readStatus = 'readable'
  remoteWriteStatus = 'writable'
  pause(): void {
    this.readStatus = 'paused'
  }
  resume(): void {
    this.readStatus = 'readable'
  }
  push(bytes: Uint8Array): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data: bytes }))
  }
  endRemote(): void {
    this.remoteWriteStatus = 'closed'
    this.dispatchEvent(new Event('remoteCloseWrite'))
  }
  fail(error: Error): void {
    this.status = 'aborted'
    this.dispatchEvent(Object.assign(new Event('close'), { error }))
  }
}

/** Splits bytes into random chunks (sizes from 1 byte to more than a frame). */
export function chunks(rng: Prng, bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength;) {
    const size = rng.pick([1, 2, 3, 4, 5, rng.between(1, 100), rng.between(1, 70_000)])
    out.push(bytes.slice(at, at + size))
    at += size
  }
  return out
}

/** Reads everything a FrameReader yields from `stream` fed with `parts`; bounded in time. */
export async function readAll(
  rng: Prng,
  parts: Uint8Array[],
  end: 'clean' | 'error'
): Promise<{ frames: Uint8Array[]; error?: unknown; hung?: boolean }> {
  const stream = new FakeStream()
  const reader = new FrameReader(stream as never)
  const frames: Uint8Array[] = []
  const feeding = (async () => {
    for (const part of parts) {
      stream.push(part)
      if (rng.chance(0.2)) await Promise.resolve()
    }
    if (end === 'clean') stream.endRemote()
    else
      stream.fail(Object.assign(new Error('connection reset by the fuzzer'), { name: 'InjectedResetError' }))
  })()
  const reading = (async () => {
    for (;;) {
      const frame = await reader.next()
      if (frame === null) return { frames }
      frames.push(frame)
    }
  })().catch((error: unknown) => ({ frames, error }))
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<{ frames: Uint8Array[]; hung: boolean }>(
    (resolve) => (timer = setTimeout(() => resolve({ frames, hung: true }), READ_HUNG_MS))
  )
  await feeding
  const result = await Promise.race([reading, hung])
  clearTimeout(timer)
  return result
}
