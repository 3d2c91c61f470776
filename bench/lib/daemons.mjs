// Real daemon processes for benchmarks: the first inits, the others join with tickets from it,
// each runs on 127.0.0.1 with every earlier daemon as a bootstrap peer. Stopped by PID.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, stopChild, waitFor } from './proc.mjs'

async function freePort() {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

export async function startDaemons(root, size, { lockMode = 'strict' } = {}) {
  const main = join(root, 'packages/daemon/dist/main.js')
  const { callDaemon } = await import(join(root, 'packages/daemon/dist/index.js'))
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-daemons-'))
  const daemons = []
  const stopAll = async () => {
    for (const d of daemons) await stopChild(d.child)
    await rm(work, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < size; i++) {
      const dir = join(work, `d${i}`)
      await mkdir(dir)
      const address = `/ip4/127.0.0.1/tcp/${await freePort()}`
      if (i === 0)
        await run(process.execPath, [
          main,
          'init',
          '--data',
          dir,
          '--no-mdns',
          '--lock-mode',
          lockMode,
          '--listen',
          address
        ])
      else {
        const { ticket } = await callDaemon(daemons[0].socket, 'invite')
        await run(process.execPath, [main, 'join', ticket, '--data', dir, '--no-mdns', '--listen', address])
      }
      const args = [main, 'run', '--data', dir, '--no-mdns', '--listen', address, '--log-level', 'warn']
      for (const d of daemons) args.push('--bootstrap', d.address)
      if (daemons.length === 0) args.push('--no-bootstrap')
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      const logFile = createWriteStream(join(work, `d${i}.log`))
      child.stdout.pipe(logFile)
      child.stderr.pipe(logFile)
      const socket = join(dir, 'control.sock')
      const daemon = {
        dir,
        address,
        socket,
        child,
        call: (method, params = {}) => callDaemon(socket, method, params)
      }
      daemons.push(daemon)
      await waitFor(`daemon ${i}`, () => daemon.call('status'))
    }
    // Every daemon knows every member before anything is timed.
    await waitFor('membership everywhere', async () => {
      const statuses = await Promise.all(daemons.map((d) => d.call('status')))
      return statuses.every((s) => s.members.length === size && s.behind === 0) ? true : undefined
    })
    return { daemons, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
