/**
 * Making a data directory hold a filesystem: `init` (a new filesystem, this key its first member)
 * and `join` (a ticket from a member: prove it, get admitted, catch up).
 */
import { genesisOps } from '@ivyfs/fs'
import { KeyPair, loadKeyPair, saveKeyPair, toHex, type LockMode } from '@ivyfs/log'
import { createNetwork, decodeTicket, peerIdOfKey } from '@ivyfs/net'
import { access } from 'node:fs/promises'
import { defaultConfig, saveConfig, type Config } from './config.js'
import { ensureDataDir, lockDataDir, type DataPaths } from './data-dir.js'
import { AlreadyInitialisedError } from './errors.js'
import type { Logger } from './logger.js'
import { openStoreAndView } from './open.js'

export interface InitOptions {
  lockMode?: LockMode
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
}

async function exists(path: string): Promise<boolean> {
  return await access(path).then(
    () => true,
    () => false
  )
}

/** The participant key of this data directory, made on first use (file mode 0600). */
export async function participantKey(paths: DataPaths): Promise<KeyPair> {
  if (await exists(paths.key)) return await loadKeyPair(paths.key)
  const keys = KeyPair.generate()
  await saveKeyPair(paths.key, keys)
  return keys
}

async function refuseIfInitialised(paths: DataPaths): Promise<void> {
  if (!(await exists(paths.config))) return
  const { loadConfig } = await import('./config.js')
  const config = await loadConfig(paths.config, paths.dir)
  throw new AlreadyInitialisedError(paths.dir, config.fsId)
}

function withOptions(config: Config, options: InitOptions): Config {
  return {
    ...config,
    ...(options.listen !== undefined && options.listen.length > 0 ? { listen: options.listen } : {}),
    ...(options.bootstrap !== undefined ? { bootstrap: options.bootstrap } : {}),
    ...(options.mdns !== undefined ? { mdns: options.mdns } : {})
  }
}

/** Creates a new filesystem in `paths`; returns its config. */
export async function initDataDir(paths: DataPaths, options: InitOptions, logger: Logger): Promise<Config> {
  await ensureDataDir(paths)
  const release = await lockDataDir(paths)
  try {
    await refuseIfInitialised(paths)
    const keys = await participantKey(paths)
    const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
    const genesis = genesisOps(keys.publicKey, { lockMode: options.lockMode ?? 'strict', ...owner })
    const { fs } = await openStoreAndView(paths, keys, genesis.fsId, {})
    try {
      await fs.append(genesis.ops)
    } finally {
      await fs.close()
    }
    const fsId = toHex(genesis.fsId)
    const config = withOptions(defaultConfig(fsId), options)
    await saveConfig(paths.config, config)
    logger.info('created a new filesystem', { fsId, participant: toHex(keys.publicKey), dataDir: paths.dir })
    return config
  } finally {
    await release()
  }
}

export interface JoinOptions extends InitOptions {
  timeoutMs?: number
  onProgress?: (held: number, wanted: number) => void
}

/** Joins the filesystem of `ticketText` with a fresh data directory; returns its config. */
export async function joinDataDir(
  paths: DataPaths,
  ticketText: string,
  options: JoinOptions,
  logger: Logger
): Promise<Config> {
  const ticket = decodeTicket(ticketText.trim())
  await ensureDataDir(paths)
  const release = await lockDataDir(paths)
  try {
    await refuseIfInitialised(paths)
    const keys = await participantKey(paths)
    const { store, fs } = await openStoreAndView(paths, keys, ticket.fsId, {})
    const inviter = `/p2p/${peerIdOfKey(ticket.inviter).toString()}`
    const bootstrap = ticket.addresses.map((address) =>
      address.includes('/p2p/') ? address : address + inviter
    )
    const network = createNetwork({
      store,
      isMember: (key) => fs.isMember(key),
      admit: async () => {
        throw new Error('a joining node admits nobody')
      },
      listen: ['/ip4/0.0.0.0/tcp/0'],
      bootstrap: [],
      mdns: false,
      logger: logger.child('net')
    })
    await network.start()
    try {
      logger.info('joining', { fsId: toHex(ticket.fsId), inviter: toHex(ticket.inviter) })
      await network.join(ticket, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
    } finally {
      await network.stop()
      await fs.close()
    }
    const config = withOptions({ ...defaultConfig(toHex(ticket.fsId)), bootstrap }, options)
    await saveConfig(paths.config, config)
    logger.info('joined; start the daemon with `ivy daemon`', { fsId: config.fsId })
    return config
  } finally {
    await release()
  }
}
