/**
 * `ivy init`, `ivy daemon`, `ivy join` run the daemon's own entry point as a child process (the
 * CLI may not import the daemon's internals), forward SIGINT/SIGTERM, and exit with its code.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { DAEMON_MAIN } from '@ivyfs/daemon'

export interface RunDaemonOptions {
  /** Collect stdout (the result line of init/join) instead of passing it through. */
  captureStdout?: boolean
  /** Read stderr (the daemon's log) line by line instead of passing it through. */
  onStderrLine?: (line: string) => void
}

export async function runDaemonMain(
  args: string[],
  options: RunDaemonOptions = {}
): Promise<{ code: number; stdout: string }> {
  const child = spawn(process.execPath, [DAEMON_MAIN, ...args], {
    stdio: [
      'inherit',
      options.captureStdout === true ? 'pipe' : 'inherit',
      options.onStderrLine === undefined ? 'inherit' : 'pipe'
    ]
  })
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const stderrDone =
    child.stderr === null || options.onStderrLine === undefined
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream, crlfDelay: Infinity })
          lines.on('line', options.onStderrLine as (line: string) => void)
          lines.once('close', () => resolve())
        })
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
  const onInt = forward('SIGINT')
  const onTerm = forward('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  const code = await new Promise<number>((resolve) => {
    child.once('close', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)))
  })
  await stderrDone
  process.off('SIGINT', onInt)
  process.off('SIGTERM', onTerm)
  return { code, stdout }
}
