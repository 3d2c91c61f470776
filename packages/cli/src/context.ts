/** What every command needs: where the daemon is, how to print, and a client call. */
import { callDaemon, ControlClient, dataPaths, type CallOptions } from '@ivyfs/daemon'
import { createOutput, type Output } from './output.js'

export interface GlobalOptions {
  data?: string
  json?: boolean
}

export interface Context {
  out: Output
  dataDir: string
  socket: string
  call<T>(method: string, params?: object): Promise<T>
  watch<T>(method: string, params: object, options: CallOptions): Promise<T>
}

export function context(options: GlobalOptions): Context {
  const paths = dataPaths(options.data)
  return {
    out: createOutput(options.json === true),
    dataDir: paths.dir,
    socket: paths.socket,
    call: (method, params = {}) => callDaemon(paths.socket, method, params),
    watch: async (method, params, callOptions) => {
      const client = await ControlClient.connect(paths.socket)
      try {
        return await client.call(method, params, { ...callOptions, timeoutMs: 0 })
      } finally {
        client.close()
      }
    }
  }
}
