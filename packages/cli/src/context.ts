/** What every command needs: where the daemon is, how to print, and a client call. */
import { access } from 'node:fs/promises'
import {
  callDaemon,
  ControlClient,
  dataPaths,
  NotInitialisedError,
  type CallOptions,
  type DataPaths
} from '@ivyfs/daemon'
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
  /** A watching call: events until the daemon or the caller ends it (no timeout). */
  watch<T>(method: string, params: object, options: CallOptions): Promise<T>
}

/**
 * With no daemon answering, a data directory without a config holds no filesystem at all: say
 * that (exit 5, `ivy init` or `ivy join`) rather than "start the daemon" (exit 3).
 */
async function explainAbsence(paths: DataPaths, err: unknown): Promise<never> {
  if (err instanceof Error && err.name === 'DaemonNotRunningError') {
    const initialised = await access(paths.config).then(
      () => true,
      () => false
    )
    if (!initialised) throw new NotInitialisedError(paths.dir)
  }
  throw err
}

export function context(options: GlobalOptions): Context {
  const paths = dataPaths(options.data)
  return {
    out: createOutput(options.json === true),
    dataDir: paths.dir,
    socket: paths.socket,
    call: async <T>(method: string, params: object = {}): Promise<T> =>
      await callDaemon<T>(paths.socket, method, params).catch((err: unknown) => explainAbsence(paths, err)),
    watch: async (method, params, callOptions) => {
      const client = await ControlClient.connect(paths.socket).catch((err: unknown) =>
        explainAbsence(paths, err)
      )
      try {
        return await client.call(method, params, { ...callOptions, timeoutMs: 0 })
      } finally {
        client.close()
      }
    }
  }
}
