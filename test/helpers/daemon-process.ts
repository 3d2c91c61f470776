/**
 * A real ivyfs daemon as a separate process on 127.0.0.1, started the way a user would (the
 * daemon's entry point from dist/), driven through its control socket. Its log goes to a file
 * in its data directory, printed when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { callDaemon } from '../../packages/daemon/src/index.js'
import { waitFor } from './wait.js'

export const DAEMON_MAIN = fileURLToPath(new URL('../../packages/daemon/dist/main.js', import.meta.url))
export const CLI_MAIN = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url))

/** A port that was free a moment ago (fixed ports let a restarted daemon be redialled). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a program to completion (no shell), with a bound on how long it may take. */
export async function runProgram(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}
): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(`${file} ${args.join(' ')} took longer than ${options.timeoutMs ?? 60_000} ms\n${stderr}`)
      )
    }, options.timeoutMs ?? 60_000)
    child.once('error', reject)
    // 'close', not 'exit': a process can exit before its output has been read from the pipes, so
    // on 'exit' stdout may still be empty (seen as "Unexpected end of JSON input" under load).
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

export const ivy = (
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}
): Promise<RunResult> => runProgram(process.execPath, [CLI_MAIN, ...args], options)

export class DaemonProcess {
  private child: ChildProcess | undefined
  readonly logFile: string
  readonly socket: string

  constructor(
    readonly dataDir: string,
    readonly port: number,
    public bootstrap: string[] = [],
    public mountPoint: string | undefined = undefined
  ) {
    this.logFile = join(dataDir, 'daemon.log')
    this.socket = join(dataDir, 'control.sock')
  }

  get address(): string {
    return `/ip4/127.0.0.1/tcp/${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  async init(lockMode: 'strict' | 'available' = 'strict'): Promise<void> {
    const result = await runProgram(process.execPath, [
      DAEMON_MAIN,
      'init',
      '--data',
      this.dataDir,
      '--no-mdns',
      '--lock-mode',
      lockMode,
      '--listen',
      this.address
    ])
    if (result.code !== 0) throw new Error(`init failed: ${result.stderr}`)
  }

  async join(ticket: string): Promise<void> {
    const result = await runProgram(
      process.execPath,
      [DAEMON_MAIN, 'join', ticket, '--data', this.dataDir, '--no-mdns', '--listen', this.address],
      { timeoutMs: 60_000 }
    )
    if (result.code !== 0) throw new Error(`join failed: ${result.stderr}`)
  }

  async start(): Promise<void> {
    const args = [
      DAEMON_MAIN,
      'run',
      '--data',
      this.dataDir,
      '--no-mdns',
      '--listen',
      this.address,
      '--log-level',
      'debug'
    ]
    for (const address of this.bootstrap) args.push('--bootstrap', address)
    // No peers given means none: a daemon restarted alone is really cut off (not redialling its config's peers).
    if (this.bootstrap.length === 0) args.push('--no-bootstrap')
    if (this.mountPoint !== undefined) args.push('--mount', this.mountPoint)
    const log = createWriteStream(this.logFile, { flags: 'a' })
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(log)
    child.stderr.pipe(log)
    this.child = child
    await waitFor(`daemon ${this.dataDir} to answer`, async () => {
      if (!this.running)
        throw new Error(`daemon exited with ${child.exitCode ?? child.signalCode}: ${await this.logTail()}`)
      const status = await this.call<{ mount: string | null }>('status')
      // Ready means mounted too: a program run before that would write to the bare directory.
      return this.mountPoint === undefined || status.mount !== null ? status : undefined
    })
  }

  async call<T = unknown>(method: string, params: object = {}): Promise<T> {
    return await callDaemon<T>(this.socket, method, params)
  }

  /** Stops by PID: SIGTERM waits for a clean shutdown, SIGKILL does not. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined || !this.running) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await Promise.race([
      exited,
      new Promise((resolve) =>
        setTimeout(() => {
          child.kill('SIGKILL')
          resolve(undefined)
        }, 15_000)
      )
    ])
    await exited
    this.child = undefined
  }

  async logTail(lines = 40): Promise<string> {
    try {
      return (await readFile(this.logFile, 'utf8')).split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }
}
