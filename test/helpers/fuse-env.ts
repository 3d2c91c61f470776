/**
 * Shared plumbing of the FUSE tests. The vitest process serves the mount; everything that
 * touches the mount runs in a child process (a read from the serving process deadlocks it).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkFuse, forceUnmount, type Logger } from '@ivyfs/fuse'

/**
 * FUSE tests skip only where FUSE is missing and IVYFS_REQUIRE_FUSE is not '1' (CI sets it, so
 * there a missing FUSE fails the run instead).
 */
export function fuseMissing(): boolean {
  if (process.env['IVYFS_REQUIRE_FUSE'] === '1') return false
  return checkFuse() !== null
}

export interface ShellResult {
  code: number
  stdout: string
  stderr: string
}

/** Bound on one shell command: well under the test timeout, so a hang fails with a message. */
const SHELL_TIMEOUT_MS = 30_000

/**
 * Runs `sh -c script` in directory `dir` (a child process); never rejects on a non-zero exit.
 * The shell changes into `dir` itself: spawn's `cwd` option would make the forked child chdir
 * into the mount before exec, while this process sits in spawn waiting for that exec and so
 * cannot answer the kernel's getattr: a deadlock.
 */
export function sh(script: string, dir: string, timeoutMs = SHELL_TIMEOUT_MS): Promise<ShellResult> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', `cd "$IVYFS_TEST_DIR" || exit 125\n${script}`],
      {
        cwd: tmpdir(),
        env: { ...process.env, IVYFS_TEST_DIR: dir },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 124
        resolve({ code, stdout, stderr })
      }
    )
  })
}

/** Like sh, but fails with the command's output unless it exits 0; resolves stdout. */
export async function shOk(script: string, dir: string, timeoutMs = SHELL_TIMEOUT_MS): Promise<string> {
  const result = await sh(script, dir, timeoutMs)
  if (result.code !== 0) {
    throw new Error(`command failed (${result.code}): ${script}\n${result.stdout}\n${result.stderr}`)
  }
  return result.stdout
}

/** A fresh temporary directory; `remove` frees any mount below it first. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `ivyfs-${prefix}-`))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Unmounts through the handle, and if that fails or hangs, with the unstick sequence. */
export async function cleanUnmount(mountPoint: string, unmount?: () => Promise<void>): Promise<void> {
  try {
    if (unmount !== undefined) await withTimeout(unmount(), 10_000)
  } finally {
    await forceUnmount(mountPoint)
  }
}

/** Polls `condition` every `intervalMs` until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (err: unknown) => (clearTimeout(timer), reject(err))
    )
  })
}

/** A logger that records what it is given (tests assert on errors logged). */
export function recordingLogger(): Logger & { errors: string[]; warnings: string[] } {
  const errors: string[] = []
  const warnings: string[] = []
  return {
    errors,
    warnings,
    debug: () => {},
    info: () => {},
    warn: (message) => void warnings.push(message),
    error: (message) => void errors.push(message)
  }
}
