/**
 * The peer daemon: one per machine and data directory. Holds the LogStore, the fs view, the
 * libp2p network, the control socket and (optionally) the FUSE mount; stops cleanly on
 * SIGINT/SIGTERM (unmount first, then network, control socket, store).
 */
import type { Filesystem } from '@ivyfs/fs'
import { mountFilesystem, type FilesystemMountHandle } from '@ivyfs/fuse'
import { fromHex, loadKeyPair, toHex, type KeyPair, type LogStore } from '@ivyfs/log'
import { createNetwork, type Network } from '@ivyfs/net'
import { resolve } from 'node:path'
import { loadConfig, type Config } from './config.js'
import { ControlServer } from './control-server.js'
import { dataPaths, ensureDataDir, lockDataDir, type DataPaths } from './data-dir.js'
import { controlHandlers } from './handlers.js'
import type { Logger } from './logger.js'
import { openStoreAndView } from './open.js'

export interface DaemonInit {
  dataDir?: string
  mount?: string
  /** Overrides of the config file for this run (`bootstrap: []` means no bootstrap peers at all). */
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  logger: Logger
}

export class Daemon {
  private mountHandle: FilesystemMountHandle | undefined
  private control: ControlServer | undefined
  private stopping: Promise<void> | undefined
  readonly startedMs = Date.now()

  private constructor(
    readonly paths: DataPaths,
    readonly config: Config,
    readonly keys: KeyPair,
    readonly store: LogStore,
    readonly fs: Filesystem,
    readonly network: Network,
    readonly logger: Logger,
    private readonly releaseLock: () => Promise<void>
  ) {}

  static async start(init: DaemonInit): Promise<Daemon> {
    const paths = dataPaths(init.dataDir)
    await ensureDataDir(paths)
    const releaseLock = await lockDataDir(paths)
    const logger = init.logger
    try {
      const fileConfig = await loadConfig(paths.config, paths.dir)
      const config: Config = {
        ...fileConfig,
        ...(init.listen !== undefined && init.listen.length > 0 ? { listen: init.listen } : {}),
        ...(init.bootstrap !== undefined ? { bootstrap: init.bootstrap } : {}),
        ...(init.mdns !== undefined ? { mdns: init.mdns } : {})
      }
      const keys = await loadKeyPair(paths.key)
      const opening = performance.now()
      const { store, fs } = await openStoreAndView(paths, keys, fromHex(config.fsId), {
        lockTimeoutMs: config.lockTimeoutMs
      })
      const report = fs.openReport
      // A corrupt snapshot costs a replay of the logs (the next snapshot replaces it): say so.
      const level = report.snapshot === 'corrupt' ? 'warn' : 'info'
      logger[level]('view opened', { ...report, ms: Math.round(performance.now() - opening) })
      const network = createNetwork({
        store,
        isMember: (key) => fs.isMember(key),
        admit: async (key, info) => {
          logger.info('admitting a new member', { key: toHex(key), ticket: info.ticketId })
          await fs.append([{ type: 'member', action: 'add', key }])
        },
        listen: config.listen,
        bootstrap: config.bootstrap,
        mdns: config.mdns,
        logger: logger.child('net')
      })
      const daemon = new Daemon(paths, config, keys, store, fs, network, logger, releaseLock)
      await daemon.open(init.mount)
      return daemon
    } catch (err) {
      await releaseLock()
      throw err
    }
  }

  /**
   * Network, then the mount, then the control socket, last: a daemon that answers on its socket
   * is ready, its mount included. Serving the socket before mounting let clients (`status`,
   * scripts, the test clusters) see a ready daemon while the mount point was still the bare
   * directory below it: a program's `mkdir` there succeeded on the local disk, outside ivyfs and
   * its exclusive-create protocol (a second lock holder), and then made the mount fail
   * ("mountpoint is not empty").
   */
  private async open(mount: string | undefined): Promise<void> {
    try {
      await this.network.start()
      if (mount !== undefined) await this.mount(mount)
      this.control = await ControlServer.listen({
        path: this.paths.socket,
        handlers: controlHandlers(this),
        logger: this.logger.child('control')
      })
    } catch (err) {
      await this.stop()
      throw err
    }
    this.logger.info('daemon ready', {
      fsId: this.config.fsId,
      participant: toHex(this.keys.publicKey),
      listen: this.network.addresses(),
      socket: this.paths.socket,
      mount: this.mountHandle?.mountPoint ?? null
    })
  }

  get mountPoint(): string | undefined {
    return this.mountHandle?.mountPoint
  }

  async mount(dir: string): Promise<string> {
    if (this.mountHandle !== undefined) {
      throw Object.assign(new Error(`already mounted at ${this.mountHandle.mountPoint}`), {
        name: 'AlreadyMountedError'
      })
    }
    this.mountHandle = await mountFilesystem(this.fs, resolve(dir), { logger: this.logger.child('fuse') })
    this.logger.info('mounted', {
      mountPoint: this.mountHandle.mountPoint,
      options: this.mountHandle.options
    })
    return this.mountHandle.mountPoint
  }

  async unmount(): Promise<string | undefined> {
    const handle = this.mountHandle
    if (handle === undefined) return undefined
    this.mountHandle = undefined
    await handle.unmount()
    this.logger.info('unmounted', { mountPoint: handle.mountPoint })
    return handle.mountPoint
  }

  /** Unmount first (so no program is left on a dead mount), then network, control socket, store. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['unmount', () => this.unmount()],
        ['network', () => this.network.stop()],
        ['control socket', async () => await this.control?.close()],
        ['store', () => this.fs.close()],
        ['data directory lock', () => this.releaseLock()]
      ]
      for (const [what, step] of steps) {
        try {
          await step()
        } catch (err) {
          this.logger.error(`stopping: ${what} failed`, { err })
        }
      }
      this.logger.info('daemon stopped')
    })()
    return this.stopping
  }
}
