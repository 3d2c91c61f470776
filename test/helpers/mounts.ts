/**
 * Mount plumbing for the reliability suites: whether a directory is a mount point, freeing the
 * FUSE mount a SIGKILLed daemon left (the daemon's `main.js unmount DIR`, then the unstick
 * sequence of ENVIRONMENT.md if that was not enough), small tmpfs mounts for disk-full tests, and
 * shell workloads on a mount run as child processes that the test can kill by PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DAEMON_MAIN, runProgram } from './daemon-process.js'

const run = promisify(execFile)
export const UNSTICK_FUSE = fileURLToPath(new URL('../../../shared/tools/unstick-fuse', import.meta.url))

function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

/** The file system type mounted at `dir` (the topmost mount), or undefined. */
export async function mountType(dir: string): Promise<string | undefined> {
  const wanted = resolve(dir)
  let found: string | undefined
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const [left, right] = line.split(' - ')
    if (left === undefined || right === undefined) continue
    if (unescapeMountinfo(left.split(' ')[4] ?? '') === wanted) found = right.split(' ')[0]
  }
  return found
}

/**
 * Frees a FUSE mount whose daemon is gone, as a user would: `main.js unmount DIR`; if the mount is
 * still there, the unstick script. Resolves how it was freed; throws if it is still mounted.
 */
export async function freeStaleMount(dir: string): Promise<'not mounted' | 'daemon unmount' | 'unstick'> {
  if ((await mountType(dir)) === undefined) return 'not mounted'
  const result = await runProgram(process.execPath, [DAEMON_MAIN, 'unmount', dir], { timeoutMs: 20_000 })
  if ((await mountType(dir)) === undefined) return 'daemon unmount'
  const unstick = await runProgram('bash', [UNSTICK_FUSE, dir], { timeoutMs: 20_000 })
  if ((await mountType(dir)) === undefined) return 'unstick'
  throw new Error(
    `could not free the mount at ${dir}: unmount said ${result.stdout}${result.stderr}; unstick said ${unstick.stdout}${unstick.stderr}`
  )
}

/** Frees every FUSE mount below `root` (cleanup after a test: nothing may stay mounted). */
export async function freeMountsBelow(root: string): Promise<void> {
  const prefix = resolve(root) + '/'
  const text = await readFile('/proc/self/mountinfo', 'utf8')
  const below = text
    .split('\n')
    .map((line) => unescapeMountinfo(line.split(' - ')[0]?.split(' ')[4] ?? ''))
    .filter((point) => point.startsWith(prefix))
    .reverse()
  for (const point of below) {
    const type = await mountType(point)
    if (type === undefined) continue
    if (type.startsWith('fuse')) await freeStaleMount(point)
    else await run('umount', [point]).catch(async () => await run('umount', ['-l', point]))
  }
}

export async function mountTmpfs(dir: string, sizeMiB: number): Promise<void> {
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir])
}

export async function resizeTmpfs(dir: string, sizeMiB: number): Promise<void> {
  await run('mount', ['-o', `remount,size=${sizeMiB}m`, dir])
}

export async function unmountTmpfs(dir: string): Promise<void> {
  if ((await mountType(dir)) !== 'tmpfs') return
  await run('umount', [dir]).catch(async () => await run('umount', ['-l', dir]))
}

export interface ShellJob {
  child: ChildProcess
  /** Kills the shell and the commands it started (its process group, by the shell's PID). */
  kill(): void
  /** Resolves when the shell exits (never rejects). */
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>
}

/**
 * Starts `sh -c script` in `dir` without waiting for it (the test may kill things meanwhile). The
 * shell changes into `dir` itself: spawn's `cwd` would chdir into a mount before exec.
 */
export function startShell(script: string, dir: string, env: Record<string, string> = {}): ShellJob {
  const child = spawn('sh', ['-c', `cd "$IVYFS_TEST_DIR" || exit 125\n${script}`], {
    cwd: tmpdir(),
    env: { ...process.env, ...env, IVYFS_TEST_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true // its own process group, so kill() reaches cp/dd too
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolveDone) => {
      child.once('error', (err) =>
        resolveDone({ code: 127, signal: null, stdout, stderr: stderr + String(err) })
      )
      child.once('close', (code, signal) => resolveDone({ code, signal, stdout, stderr }))
    }
  )
  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {
      child.kill('SIGKILL')
    }
  }
  return { child, done, kill }
}

/** Runs a shell script in `dir` to completion, bounded in time (killed by PID past the bound). */
export async function runShell(
  script: string,
  dir: string,
  timeoutMs = 60_000,
  env: Record<string, string> = {}
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const job = startShell(script, dir, env)
  const timer = setTimeout(() => job.kill(), timeoutMs)
  const result = await job.done
  clearTimeout(timer)
  if (result.signal === 'SIGKILL')
    return { ...result, code: 124, stderr: `${result.stderr}\n(killed after ${timeoutMs} ms)` }
  return result
}
