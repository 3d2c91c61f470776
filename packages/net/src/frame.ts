/**
 * Length-prefixed frames over a libp2p stream: a uint32 big-endian byte count, then that many
 * payload bytes. Reading is bounded twice: a frame longer than `frameBytesMax` is refused from its
 * header alone (nothing of it is buffered), and decoded frames waiting for the consumer never
 * exceed `queueBytesMax` before the stream is paused (yamux then withholds window, so the sender
 * sees backpressure). Reads can be bounded in time with an AbortSignal.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  FRAME_BYTES_MAX,
  FRAME_HEADER_BYTES,
  READ_QUEUE_BYTES_MAX,
  STREAM_READ_BUFFER_BYTES_MAX
} from './constants.js'
import { FrameTooLargeError, MalformedMessageError, StreamEndedError, TruncatedFrameError } from './errors.js'

export function encodeFrame(payload: Uint8Array, frameBytesMax = FRAME_BYTES_MAX): Uint8Array {
  if (payload.byteLength > frameBytesMax) throw new FrameTooLargeError(payload.byteLength, frameBytesMax)
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength)
  new DataView(frame.buffer).setUint32(0, payload.byteLength, false)
  frame.set(payload, FRAME_HEADER_BYTES)
  return frame
}

/** Sends one frame, waiting for the stream to drain when its send buffer is full. */
export async function writeFrame(stream: Stream, payload: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (!stream.send(encodeFrame(payload))) await stream.onDrain(signal === undefined ? {} : { signal })
}

export interface FrameReaderInit {
  frameBytesMax?: number
  queueBytesMax?: number
}

interface Waiter {
  resolve: (frame: Uint8Array | null) => void
  reject: (err: unknown) => void
}

export class FrameReader {
  private readonly buffer = new Uint8ArrayList()
  private readonly frames: Uint8Array[] = []
  private queuedBytes = 0
  private ended = false
  private failure: unknown
  private waiter: Waiter | undefined
  private paused = false
  /** Inside stream.resume(): it hands us what it buffered, and must not be paused from within. */
  private resuming = false
  private readonly frameBytesMax: number
  private readonly queueBytesMax: number

  constructor(
    private readonly stream: Stream,
    init: FrameReaderInit = {}
  ) {
    this.frameBytesMax = init.frameBytesMax ?? FRAME_BYTES_MAX
    this.queueBytesMax = init.queueBytesMax ?? READ_QUEUE_BYTES_MAX
    // A paused stream still receives one yamux window; let its buffer hold that, not abort.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, STREAM_READ_BUFFER_BYTES_MAX)
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('remoteCloseWrite', this.onEnd)
    stream.addEventListener('close', this.onClose)
    if (stream.status === 'reset' || stream.status === 'aborted')
      this.failure = new StreamEndedError(stream.status)
    // Already finished by the remote: libp2p still hands the bytes it buffered to the new
    // 'message' listener (in a microtask), so the end is noted only after those have come.
    if (stream.readStatus === 'closed' || stream.remoteWriteStatus === 'closed') setImmediate(this.onEnd)
  }

  /** The next frame's payload, or null once the remote has cleanly finished writing. */
  async next(signal?: AbortSignal): Promise<Uint8Array | null> {
    const frame = this.frames.shift()
    if (frame !== undefined) {
      this.queuedBytes -= frame.byteLength
      this.maybeResume()
      return frame
    }
    if (this.failure !== undefined) throw this.failure
    if (this.ended) {
      if (this.buffer.byteLength > 0) throw new TruncatedFrameError(this.buffer.byteLength)
      return null
    }
    signal?.throwIfAborted()
    return await new Promise<Uint8Array | null>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = undefined
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiter = {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(value)
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        }
      }
    })
  }

  /** Stops listening; frames not yet read are dropped. */
  detach(): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd)
    this.stream.removeEventListener('close', this.onClose)
  }

  private readonly onMessage = (event: StreamMessageEvent): void => {
    if (this.failure !== undefined) return
    this.buffer.append(event.data)
    try {
      this.split()
    } catch (err) {
      this.fail(err)
      return
    }
    if (!this.resuming) this.maybePause()
    this.wake()
  }

  private maybePause(): void {
    if (this.queuedBytes < this.queueBytesMax || this.paused || this.stream.readStatus !== 'readable') return
    this.paused = true
    this.stream.pause()
  }

  private split(): void {
    while (this.buffer.byteLength >= FRAME_HEADER_BYTES) {
      const length = this.buffer.getUint32(0, false)
      if (length > this.frameBytesMax) throw new FrameTooLargeError(length, this.frameBytesMax)
      if (length === 0) throw new MalformedMessageError('frame', 'empty frame')
      if (this.buffer.byteLength < FRAME_HEADER_BYTES + length) return
      // slice copies, so a small frame never pins the large network chunk it arrived in.
      const payload = this.buffer.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length)
      this.buffer.consume(FRAME_HEADER_BYTES + length)
      this.frames.push(payload)
      this.queuedBytes += length
    }
  }

  private readonly onEnd = (): void => {
    this.ended = true
    this.wake()
  }

  private readonly onClose = (event: StreamCloseEvent): void => {
    if (event.error !== undefined && this.failure === undefined) this.failure = event.error
    this.ended = true
    this.wake()
  }

  private fail(err: unknown): void {
    this.failure = err
    this.buffer.consume(this.buffer.byteLength)
    this.frames.length = 0
    this.queuedBytes = 0
    this.wake()
  }

  private wake(): void {
    const waiter = this.waiter
    if (waiter === undefined) return
    const frame = this.frames.shift()
    if (frame !== undefined) {
      this.waiter = undefined
      this.queuedBytes -= frame.byteLength
      this.maybeResume()
      waiter.resolve(frame)
    } else if (this.failure !== undefined) {
      this.waiter = undefined
      waiter.reject(this.failure)
    } else if (this.ended) {
      this.waiter = undefined
      if (this.buffer.byteLength > 0) waiter.reject(new TruncatedFrameError(this.buffer.byteLength))
      else waiter.resolve(null)
    }
  }

  /**
   * Resumes once half the queue is consumed. libp2p's resume() first hands us everything the
   * stream buffered while paused (which may refill the queue) and only then tells yamux to grant
   * window again; a pause() from inside that hand-over would be undone by yamux's resume, and it
   * would keep granting window to a stream that no longer reads, until the stream's read buffer
   * overflowed and the stream was reset (StreamBufferError). So any pause waits until resume()
   * has returned: then yamux stops granting window, and at most the one window it just granted
   * arrives into the (now empty) stream buffer.
   */
  private maybeResume(): void {
    if (!this.paused || this.queuedBytes > this.queueBytesMax / 2) return
    if (this.stream.readStatus !== 'paused') return
    this.paused = false
    this.resuming = true
    try {
      this.stream.resume()
    } finally {
      this.resuming = false
    }
    if (this.failure === undefined) this.maybePause()
  }
}
