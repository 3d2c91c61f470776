/** The client side of the control socket, used by the `ivy` CLI and by tests. */
import { connect, type Socket } from 'node:net'
import { CONTROL_LINE_BYTES_MAX, CONTROL_TIMEOUT_MS } from './constants.js'
import { ControlProtocolError, DaemonNotRunningError, RemoteError } from './errors.js'
import { LineSplitter, type ControlMessage } from './control-wire.js'

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  onEvent: ((event: unknown) => void) | undefined
  timer: NodeJS.Timeout | undefined
}

export interface CallOptions {
  /** Called for each event a watching method sends before its answer. */
  onEvent?: (event: unknown) => void
  /** 0 waits for ever (watching methods). */
  timeoutMs?: number
}

export class ControlClient {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  private constructor(private readonly socket: Socket) {
    const splitter = new LineSplitter(CONTROL_LINE_BYTES_MAX)
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const line of splitter.push(chunk)) this.receive(JSON.parse(line) as ControlMessage)
      } catch (err) {
        this.failAll(err instanceof Error ? err : new ControlProtocolError(String(err)))
        socket.destroy()
      }
    })
    socket.on('close', () => this.failAll(new ControlProtocolError('the daemon closed the connection')))
    socket.on('error', () => undefined)
  }

  static async connect(socketPath: string): Promise<ControlClient> {
    return await new Promise((resolve, reject) => {
      const socket = connect(socketPath)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new ControlClient(socket))
      })
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
          reject(new DaemonNotRunningError(socketPath))
        else reject(err)
      })
    })
  }

  async call<T = unknown>(method: string, params: object = {}, options: CallOptions = {}): Promise<T> {
    const id = this.nextId++
    const timeoutMs = options.timeoutMs ?? CONTROL_TIMEOUT_MS
    return await new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id)
              reject(new ControlProtocolError(`${method}: no answer within ${timeoutMs} ms`))
            }, timeoutMs)
          : undefined
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onEvent: options.onEvent,
        timer
      })
      this.socket.write(JSON.stringify({ id, method, params }) + '\n')
    })
  }

  close(): void {
    this.socket.end()
    this.socket.destroy()
  }

  private receive(message: ControlMessage): void {
    const pending = this.pending.get(message.id)
    if (pending === undefined) {
      if ('error' in message && message.id === 0) this.failAll(remote(message.error))
      return
    }
    if ('event' in message) {
      pending.onEvent?.(message.event)
      return
    }
    this.pending.delete(message.id)
    if (pending.timer !== undefined) clearTimeout(pending.timer)
    if ('error' in message) pending.reject(remote(message.error))
    else pending.resolve(message.result)
  }

  private failAll(err: Error): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id)
      if (pending.timer !== undefined) clearTimeout(pending.timer)
      pending.reject(err)
    }
  }
}

function remote(error: { name: string; message: string; errno?: string; data?: object }): RemoteError {
  return new RemoteError(error.name, error.message, error.errno, error.data ?? {})
}

/** One request on a fresh connection. */
export async function callDaemon<T = unknown>(
  socketPath: string,
  method: string,
  params: object = {}
): Promise<T> {
  const client = await ControlClient.connect(socketPath)
  try {
    return await client.call<T>(method, params)
  } finally {
    client.close()
  }
}
