/**
 * A raw connection to a daemon's control socket for reliability-fuzz-control.test.ts: it writes
 * any bytes (not only well-formed requests) and reads the answers line by line.
 */
import { connect, type Socket } from 'node:net'

/** A raw control-socket connection: one line out, one line back. */
export class RawControl {
  private buffer = ''
  private readonly lines: string[] = []
  private waiter: (() => void) | undefined
  closed = false

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8')
      let at: number
      while ((at = this.buffer.indexOf('\n')) !== -1) {
        this.lines.push(this.buffer.slice(0, at))
        this.buffer = this.buffer.slice(at + 1)
      }
      this.waiter?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.waiter?.()
    })
    socket.on('error', () => undefined)
  }

  static async connect(path: string): Promise<RawControl> {
    return await new Promise((resolve, reject) => {
      const socket = connect(path)
      socket.once('connect', () => resolve(new RawControl(socket)))
      socket.once('error', reject)
    })
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes)
  }

  async nextLine(timeoutMs: number): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs
    while (this.lines.length === 0 && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now())
        this.waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.waiter = undefined
    }
    return this.lines.shift()
  }

  close(): void {
    this.socket.destroy()
  }
}
