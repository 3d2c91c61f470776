/**
 * The daemon's data directory: where its key, config, LevelDB store, pid lock and control socket live.
 * Default `~/.ivyfs`, or IVYFS_DATA, or `--data DIR`.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CONFIG_FILE, KEY_FILE, PID_FILE, SOCKET_FILE, STORE_DIR } from './constants.js'
import { DaemonRunningError } from './errors.js'

export interface DataPaths {
  dir: string
  config: string
  key: string
  pid: string
  socket: string
  store: string
}

export function defaultDataDir(): string {
  const fromEnv = process.env['IVYFS_DATA']
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(homedir(), '.ivyfs')
}

export function dataPaths(dir: string = defaultDataDir()): DataPaths {
  const root = resolve(dir)
  return {
    dir: root,
    config: join(root, CONFIG_FILE),
    key: join(root, KEY_FILE),
    pid: join(root, PID_FILE),
    socket: join(root, SOCKET_FILE),
    store: join(root, STORE_DIR)
  }
}

export async function ensureDataDir(paths: DataPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the data directory for this process: exclusive creation of the pid file. A pid file whose
 * process is gone (a killed daemon) is stale and is replaced; a live one means another daemon owns it.
 */
export async function lockDataDir(paths: DataPaths): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(paths.pid, 'wx', 0o600)
      await handle.writeFile(`${process.pid}\n`)
      await handle.sync()
      await handle.close()
      return async () => {
        const owner = await readPid(paths.pid)
        if (owner === process.pid) await rm(paths.pid, { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = await readPid(paths.pid)
      if (owner !== undefined && owner !== process.pid && isAlive(owner))
        throw new DaemonRunningError(paths.dir, owner)
      await rm(paths.pid, { force: true })
    }
  }
  throw new DaemonRunningError(paths.dir, -1)
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The pid of the daemon that owns this data directory, if one is alive. */
export async function runningDaemonPid(paths: DataPaths): Promise<number | undefined> {
  const pid = await readPid(paths.pid)
  return pid !== undefined && isAlive(pid) ? pid : undefined
}
