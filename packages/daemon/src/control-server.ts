/**
 * The daemon's control socket: a Unix socket (mode 0600) that the `ivy` CLI talks to.
 * Each request runs its handler; a handler that watches gets `emit` and runs until the client leaves.
 */
import { chmod, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { CONTROL_CONNECTIONS_MAX, CONTROL_LINE_BYTES_MAX } from './constants.js'
import { DaemonError, UnknownMethodError } from './errors.js'
import { LineSplitter, parseRequest, toWireError, type ControlMessage } from './control-wire.js'
import type { Logger } from './logger.js'

export interface HandlerContext {
  /** Sends an event to the caller before the final answer (for watching methods). */
  emit(event: unknown): void
  /** Aborted when the caller disconnects. */
  signal: AbortSignal
}

export type Handler = (params: Record<string, unknown>, context: HandlerContext) => Promise<unknown>

export interface ControlServerInit {
  path: string
  handlers: Record<string, Handler>
  logger: Logger
}

export class ControlServer {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()

  private constructor(private readonly init: ControlServerInit) {
    this.server = createServer((socket) => this.accept(socket))
    this.server.maxConnections = CONTROL_CONNECTIONS_MAX
  }

  static async listen(init: ControlServerInit): Promise<ControlServer> {
    const control = new ControlServer(init)
    await rm(init.path, { force: true }) // a socket file left by a killed daemon (the pid lock proves it is dead)
    await new Promise<void>((resolve, reject) => {
      control.server.once('error', reject)
      // The mask makes the socket 0600 from birth; chmod again below in case the platform ignores it.
      const mask = process.umask(0o177)
      control.server.listen(init.path, () => {
        process.umask(mask)
        control.server.off('error', reject)
        resolve()
      })
    })
    await chmod(init.path, 0o600)
    return control
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    await rm(this.init.path, { force: true })
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket)
    const controller = new AbortController()
    const splitter = new LineSplitter(CONTROL_LINE_BYTES_MAX)
    const send = (message: ControlMessage): void => {
      if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n')
    }
    socket.on('data', (chunk: Buffer) => {
      let lines: string[]
      try {
        lines = splitter.push(chunk)
      } catch (err) {
        this.init.logger.warn('control client sent an oversized message; closing it', { err })
        socket.removeAllListeners('data')
        socket.write(JSON.stringify({ id: 0, error: toWireError(err) }) + '\n', () => socket.destroy())
        return
      }
      for (const line of lines) void this.dispatch(line, send, controller.signal)
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      this.sockets.delete(socket)
      controller.abort()
    })
  }

  private async dispatch(
    line: string,
    send: (m: ControlMessage) => void,
    signal: AbortSignal
  ): Promise<void> {
    let id = 0
    try {
      const request = parseRequest(line)
      id = request.id
      const handler = Object.hasOwn(this.init.handlers, request.method)
        ? this.init.handlers[request.method]
        : undefined
      if (handler === undefined) throw new UnknownMethodError(request.method)
      const result = await handler(request.params, { emit: (event) => send({ id, event }), signal })
      send({ id, result: result ?? null })
    } catch (err) {
      // Typed operating errors are the caller's answer; anything else is a bug worth a loud log line.
      const typed = err instanceof DaemonError || (err instanceof Error && 'errno' in err && 'data' in err)
      if (typed) this.init.logger.debug('control request failed', { err })
      else
        this.init.logger.error('control handler failed unexpectedly', { err, stack: (err as Error)?.stack })
      send({ id, error: toWireError(err) })
    }
  }
}
