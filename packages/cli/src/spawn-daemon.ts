/**
 * `ivy init`, `ivy daemon`, `ivy join` run the daemon's own entry point as a child process with
 * the terminal attached (the CLI may not import the daemon's internals), forward SIGINT/SIGTERM,
 * and exit with its code.
 */
import { spawn } from 'node:child_process'
import { DAEMON_MAIN } from '@ivyfs/daemon'

export async function runDaemonMain(args: string[], options: { captureStdout?: boolean } = {}): Promise<{ code: number; stdout: string }> {
  const child = spawn(process.execPath, [DAEMON_MAIN, ...args], {
    stdio: ['inherit', options.captureStdout === true ? 'pipe' : 'inherit', 'inherit']
  })
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
  const onInt = forward('SIGINT')
  const onTerm = forward('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  const code = await new Promise<number>((resolve) => {
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === null ? 1 : 128)))
  })
  process.off('SIGINT', onInt)
  process.off('SIGTERM', onTerm)
  return { code, stdout }
}
