/** `ivy init`, `ivy daemon`, `ivy join`, `ivy invite`, `ivy mount`, `ivy unmount`. */
import { access } from 'node:fs/promises'
import { dataPaths, NotInitialisedError, runningDaemonPid } from '@ivyfs/daemon'
import { resolve } from 'node:path'
import type { Context } from '../context.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { joinStage, logLineText, parseLogLine, type DaemonLogLine, type JoinStage } from '../daemon-log.js'
import { dim, formatTime } from '../output.js'
import { parseTimeout, parseTtl } from '../parse.js'
import { Progress } from '../progress.js'
import { runDaemonMain } from '../spawn-daemon.js'

export interface NetworkFlags {
  listen?: string[]
  bootstrap?: string[]
  mdns?: boolean
  logLevel?: string
}

function networkArgs(flags: NetworkFlags): string[] {
  const args: string[] = []
  for (const address of flags.listen ?? []) args.push('--listen', address)
  for (const address of flags.bootstrap ?? []) args.push('--bootstrap', address)
  if (flags.mdns === false) args.push('--no-mdns')
  if (flags.logLevel !== undefined) args.push('--log-level', flags.logLevel)
  return args
}

interface DelegateInit {
  /** What the log lines say about progress (join), for the progress line on a terminal. */
  stageOf?: (line: DaemonLogLine) => JoinStage | undefined
  progressLabel?: string
  /** --log-level was given: show every log line, not only warnings and errors. */
  verbose?: boolean
}

/**
 * Runs the daemon entry point with JSON logs and turns its result line into this command's output.
 * Warnings and errors of its log go to stderr as text; the stages it reports drive a progress line.
 */
async function delegate(
  ctx: Context,
  args: string[],
  human: (result: Record<string, unknown>) => string,
  init: DelegateInit = {}
): Promise<number> {
  const progress = new Progress(init.progressLabel ?? 'working', {
    enabled: !ctx.out.json && init.stageOf !== undefined
  })
  const raw: string[] = []
  const onStderrLine = (text: string): void => {
    const line = parseLogLine(text)
    if (line === undefined) return void raw.push(text)
    const stage = init.stageOf?.(line)
    if (stage !== undefined)
      progress.update({ label: stage.label, done: stage.done, total: stage.total, unit: 'records' })
    if (init.verbose === true || line.level === 'warn' || line.level === 'error')
      progress.note(dim(logLineText(line)))
  }
  let outcome
  try {
    outcome = await runDaemonMain([...args, '--log-format', 'json'], { captureStdout: true, onStderrLine })
  } finally {
    progress.done()
  }
  const last = outcome.stdout.trim().split('\n').pop() ?? '{}'
  let result: Record<string, unknown> = {}
  try {
    result = JSON.parse(last) as Record<string, unknown>
  } catch {
    result = {}
  }
  const error = result['error'] as { name?: string; message?: string } | undefined
  // The entry point also prints its error as `ivyfs: message`: print the rest (a stack, say) only.
  const rest = raw.filter((text) => error?.message === undefined || text !== `ivyfs: ${error.message}`)
  if (rest.length > 0) ctx.out.note(rest.join('\n'))
  if (outcome.code === 0 && error === undefined) {
    ctx.out.result(result, () => human(result))
    return EXIT.ok
  }
  const failure = Object.assign(
    new Error(error?.message ?? `the daemon's ${args[0] ?? ''} failed (exit ${outcome.code})`),
    {
      name: error?.name ?? 'Error'
    }
  )
  const code = ctx.out.error(failure)
  return outcome.code === EXIT.usage ? EXIT.usage : code
}

export async function initCommand(
  ctx: Context,
  flags: NetworkFlags & { lockMode?: string }
): Promise<number> {
  if (flags.lockMode !== undefined && flags.lockMode !== 'strict' && flags.lockMode !== 'available') {
    throw new UsageError('--lock-mode takes strict or available')
  }
  const args = ['init', '--data', ctx.dataDir, ...networkArgs(flags)]
  if (flags.lockMode !== undefined) args.push('--lock-mode', flags.lockMode)
  return await delegate(
    ctx,
    args,
    (r) => `created filesystem ${String(r['fsId'])} in ${ctx.dataDir}\nstart it with: ivy daemon --mount DIR`,
    {
      verbose: flags.logLevel !== undefined
    }
  )
}

export async function daemonCommand(ctx: Context, flags: NetworkFlags & { mount?: string }): Promise<number> {
  const paths = dataPaths(ctx.dataDir)
  if (
    !(await access(paths.config).then(
      () => true,
      () => false
    ))
  )
    throw new NotInitialisedError(paths.dir)
  const args = ['run', '--data', ctx.dataDir, ...networkArgs(flags)]
  if (flags.mount !== undefined) args.push('--mount', resolve(flags.mount))
  const { code } = await runDaemonMain(args)
  return code
}

export async function joinCommand(
  ctx: Context,
  ticket: string,
  flags: NetworkFlags & { timeout?: string }
): Promise<number> {
  if (!ticket.startsWith('ivy1-'))
    throw new UsageError(
      'that is not an ivyfs ticket (they start with ivy1-; get one with `ivy invite` on a member)'
    )
  const args = ['join', ticket, '--data', ctx.dataDir, ...networkArgs(flags)]
  if (flags.timeout !== undefined) args.push('--timeout-ms', String(parseTimeout(flags.timeout)))
  return await delegate(
    ctx,
    args,
    (r) => `joined filesystem ${String(r['fsId'])}\nstart it with: ivy daemon --mount DIR`,
    {
      stageOf: joinStage,
      progressLabel: 'joining',
      verbose: flags.logLevel !== undefined
    }
  )
}

export async function inviteCommand(
  ctx: Context,
  options: { ttl?: string; address?: string[] }
): Promise<void> {
  const ttlMs = options.ttl === undefined ? undefined : parseTtl(options.ttl)
  const result = await ctx.call<{ ticket: string; expiresMs: number; addresses: string[] }>('invite', {
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(options.address === undefined ? {} : { addresses: options.address })
  })
  ctx.out.result(
    result,
    () =>
      `${result.ticket}\n\n${dim(`on the new machine: ivy join ${result.ticket.slice(0, 16)}…  (valid once, until ${formatTime(result.expiresMs)}; dials ${result.addresses.join(', ') || 'no address'})`)}`
  )
}

export async function mountCommand(ctx: Context, dir: string): Promise<void> {
  const result = await ctx.call<{ mountPoint: string }>('mount', { dir: resolve(dir) })
  ctx.out.result(result, () => `mounted at ${result.mountPoint}`)
}

/** Unmounts through the daemon; with no daemon alive, frees a mount a killed daemon left behind. */
export async function unmountCommand(ctx: Context, dir: string | undefined): Promise<number> {
  const alive = await runningDaemonPid(dataPaths(ctx.dataDir))
  if (alive !== undefined) {
    const result = await ctx.call<{ mountPoint: string | null }>('unmount')
    ctx.out.result(result, () =>
      result.mountPoint === null ? 'not mounted' : `unmounted ${result.mountPoint}`
    )
    return EXIT.ok
  }
  if (dir === undefined)
    throw new UsageError('no daemon is running: say which DIR to clean up (ivy unmount DIR)')
  return await delegate(ctx, ['unmount', resolve(dir)], (r) =>
    r['unmounted'] === true
      ? `freed the stale mount at ${String(r['mountPoint'])}`
      : `${String(r['mountPoint'])} was not mounted`
  )
}
