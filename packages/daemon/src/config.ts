/** The daemon's config file (`config.json` in the data directory): validated on load, written atomically. */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_PORT } from './constants.js'
import { ConfigError, NotInitialisedError } from './errors.js'
import { isLogLevel, type LogLevel } from './logger.js'

export const CONFIG_VERSION = 1

export interface Config {
  version: number
  /** Hex id of the filesystem this data directory holds. */
  fsId: string
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** Peers dialled at start and redialled with backoff. */
  bootstrap: string[]
  /** LAN discovery (multicast): on by default for people, off in tests. */
  mdns: boolean
  lockTimeoutMs: number
  logLevel: LogLevel
}

export function defaultConfig(fsId: string): Config {
  return {
    version: CONFIG_VERSION,
    fsId,
    listen: [`/ip4/0.0.0.0/tcp/${DEFAULT_PORT}`],
    bootstrap: [],
    mdns: true,
    lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
    logLevel: 'info'
  }
}

export async function saveConfig(path: string, config: Config): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`
  await writeFile(temp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  await rename(temp, path)
}

export async function loadConfig(path: string, dataDir: string): Promise<Config> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotInitialisedError(dataDir)
    throw err
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw new ConfigError(path, 'not valid JSON')
  }
  return validateConfig(path, raw)
}

function validateConfig(path: string, raw: unknown): Config {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(path, 'not an object')
  const value = raw as Record<string, unknown>
  const base = defaultConfig(typeof value['fsId'] === 'string' ? value['fsId'] : '')
  const config = { ...base, ...value } as Record<string, unknown>
  if (config['version'] !== CONFIG_VERSION)
    throw new ConfigError(path, `unknown version ${String(config['version'])}`)
  if (typeof config['fsId'] !== 'string' || !/^[0-9a-f]{64}$/.test(config['fsId'])) {
    throw new ConfigError(path, 'fsId must be 64 hex digits')
  }
  for (const key of ['listen', 'bootstrap'] as const) {
    const list = config[key]
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      throw new ConfigError(path, `${key} must be a list of multiaddr strings`)
    }
  }
  if (typeof config['mdns'] !== 'boolean') throw new ConfigError(path, 'mdns must be true or false')
  const timeout = config['lockTimeoutMs']
  if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout <= 0) {
    throw new ConfigError(path, 'lockTimeoutMs must be a positive integer')
  }
  const level = config['logLevel']
  if (typeof level !== 'string' || !isLogLevel(level))
    throw new ConfigError(path, 'logLevel must be debug|info|warn|error')
  return config as unknown as Config
}
