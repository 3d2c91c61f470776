// Real daemon processes for benchmarks, started the way a user starts them: `main.js init` for the
// first, `main.js join TICKET` (a ticket from `invite` on the first) for the others, then
// `main.js run` on 127.0.0.1 with --no-mdns, optionally with `--mount DIR`. Stopped by PID; a mount
// still there after its daemon stopped is freed by force (`fusermount -uz`, then `main.js unmount`).
//
// `startDaemons(root, size, options)` does all of it for a cluster; the pieces (`freePort`,
// `daemonPaths`, `initDaemon`, `joinDaemon`, `spawnDaemon`, `waitForControl`, `waitForMount`,
// `releaseMounts`) serve benchmarks that restart daemons or copy their data directories.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { log, run, stopChild, waitFor } from './proc.mjs'

export const daemonMain = (root) => join(root, 'packages/daemon/dist/main.js')

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Where one daemon keeps its things: data directory, listen address, control socket, log file. */
export function daemonPaths(dir, port, { logFile = `${dir}.log`, mount } = {}) {
  return {
    dir,
    port,
    address: `/ip4/127.0.0.1/tcp/${port}`,
    socket: join(dir, 'control.sock'),
    logFile,
    ...(mount === undefined ? {} : { mount })
  }
}

/** `main.js init`: a new filesystem whose first member is this data directory. */
export async function initDaemon(root, paths, { lockMode = 'strict' } = {}) {
  await run(process.execPath, [
    daemonMain(root),
    'init',
    '--data',
    paths.dir,
    '--no-mdns',
    '--lock-mode',
    lockMode,
    '--listen',
    paths.address
  ])
}

/** `main.js join TICKET`: this data directory becomes a member (the inviter must be running). */
export async function joinDaemon(root, paths, ticket) {
  await run(
    process.execPath,
    [daemonMain(root), 'join', ticket, '--data', paths.dir, '--no-mdns', '--listen', paths.address],
    { timeoutMs: 120_000 }
  )
}

/**
 * `main.js run` as a child; stderr (and stdout unless `stdout: false`) goes to `paths.logFile`
 * (truncated). `bootstrap`: addresses of peers to dial, or [] for `--no-bootstrap`.
 */
export function spawnDaemon(
  root,
  paths,
  { bootstrap = [], logFormat, logLevel = 'warn', stdout = true } = {}
) {
  const args = [daemonMain(root), 'run', '--data', paths.dir, '--no-mdns', '--listen', paths.address]
  if (paths.mount !== undefined) args.push('--mount', paths.mount)
  if (logFormat !== undefined) args.push('--log-format', logFormat)
  args.push('--log-level', logLevel)
  for (const address of bootstrap) args.push('--bootstrap', address)
  if (bootstrap.length === 0) args.push('--no-bootstrap')
  const child = spawn(process.execPath, args, { stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'] })
  const logStream = createWriteStream(paths.logFile, { flags: 'w' })
  if (stdout) child.stdout.pipe(logStream)
  child.stderr.pipe(logStream)
  return child
}

/** Resolves once the daemon answers on its control socket (it is ready, its mount included). */
export async function waitForControl(root, paths, child) {
  const { callDaemon } = await import(join(root, 'packages/daemon/dist/index.js'))
  await waitFor(
    `daemon ${paths.dir}`,
    async () => {
      if (child !== undefined && child.exitCode !== null)
        throw new Error(`daemon ${paths.dir} exited with ${child.exitCode} (log: ${paths.logFile})`)
      return await callDaemon(paths.socket, 'status')
    },
    { timeoutMs: 120_000, intervalMs: 5 }
  )
}

export async function isMounted(dir) {
  const { stdout } = await run('cat', ['/proc/self/mountinfo'])
  return stdout.split('\n').some((line) => line.split(' ')[4] === dir)
}

/** Resolves once `dir` is a mount point; fails if the process that should serve it exits. */
export async function waitForMount(dir, child) {
  await waitFor(
    `mount at ${dir}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the process serving ${dir} exited with ${child.exitCode}`)
      return await isMounted(dir)
    },
    { timeoutMs: 120_000, intervalMs: 50 }
  )
}

/**
 * After the serving processes were stopped: frees whatever of `mounts` is still mounted
 * (`fusermount -uz`, then `main.js unmount`). True when none is left.
 */
export async function releaseMounts(root, mounts) {
  for (const mount of mounts) {
    if (await isMounted(mount)) {
      await run('fusermount', ['-uz', mount], { allowFail: true })
      if (await isMounted(mount))
        await run(process.execPath, [daemonMain(root), 'unmount', mount], { allowFail: true })
    }
  }
  return !(await Promise.all(mounts.map(isMounted))).some(Boolean)
}

/**
 * `size` daemons: d0 inits, the others join with tickets from d0; each runs with every earlier
 * daemon as bootstrap peer (d0 with none). `mount: true` mounts each at `<work>/m<i>`. Resolves
 * once every daemon knows every member and is caught up. `stop()` stops them by PID, frees the
 * mounts and removes the directories (left, with a message, if a mount could not be freed).
 */
export async function startDaemons(
  root,
  size,
  { lockMode = 'strict', mount = false, logLevel = 'warn' } = {}
) {
  const { callDaemon } = await import(join(root, 'packages/daemon/dist/index.js'))
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-daemons-'))
  const daemons = []
  const stopAll = async () => {
    await Promise.all(daemons.map((d) => stopChild(d.child)))
    const mounts = daemons.flatMap((d) => (d.mount === undefined ? [] : [d.mount]))
    if (await releaseMounts(root, mounts)) await rm(work, { recursive: true, force: true })
    else log(`daemons: a mount is still there; left ${work} (free it with ../shared/tools/unstick-fuse)`)
  }
  try {
    for (let i = 0; i < size; i++) {
      const mountDir = mount ? join(work, `m${i}`) : undefined
      if (mountDir !== undefined) await mkdir(mountDir)
      const paths = daemonPaths(join(work, `d${i}`), await freePort(), { mount: mountDir })
      await mkdir(paths.dir)
      if (i === 0) await initDaemon(root, paths, { lockMode })
      else await joinDaemon(root, paths, (await callDaemon(daemons[0].socket, 'invite')).ticket)
      const child = spawnDaemon(root, paths, { bootstrap: daemons.map((d) => d.address), logLevel })
      const daemon = {
        ...paths,
        child,
        call: (method, params = {}) => callDaemon(paths.socket, method, params)
      }
      daemons.push(daemon)
      await waitForControl(root, paths, child)
      if (mountDir !== undefined) await waitForMount(mountDir, child)
    }
    // Every daemon knows every member before anything is timed.
    await waitFor('membership everywhere', async () => {
      const statuses = await Promise.all(daemons.map((d) => d.call('status')))
      return statuses.every((s) => s.members.length === size && s.behind === 0) ? true : undefined
    })
    return { daemons, work, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
