/**
 * @ivyfs/daemon — the composition root: data directory, config, keys, the peer daemon (store,
 * view, network, mount) and its control socket. The CLI imports only the client side from here:
 * `ControlClient`/`callDaemon`, the data-directory paths, the error classes and the result types.
 */
import { fileURLToPath } from 'node:url'

export { ControlClient, callDaemon, type CallOptions } from './control-client.js'
export { dataPaths, defaultDataDir, runningDaemonPid, type DataPaths } from './data-dir.js'
export * from './errors.js'
export type { Status, LogLag, MemberStatus } from './status.js'
export type { RecordWords, OpWords, InvolvedRecord } from './describe.js'
export type { ConflictDetail, VersionContent } from './conflict-detail.js'
export {
  CONTROL_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_TICKET_TTL_MS
} from './constants.js'

/** The daemon's entry point, for `ivy init|daemon|join` to run as a child process. */
export const DAEMON_MAIN = fileURLToPath(new URL('./main.js', import.meta.url))
