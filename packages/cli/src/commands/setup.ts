/** `ivy init`, `ivy daemon`, `ivy join`, `ivy invite`, `ivy mount`, `ivy unmount`. */
import { runningDaemonPid, dataPaths } from '@ivyfs/daemon'
import { resolve } from 'node:path'
import type { Context } from '../context.js'
import { EXIT, UsageError } from '../exit-codes.js'
import { dim, formatTime } from '../output.js'
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

/** Runs the daemon entry point and turns its result line into this command's output. */
async function delegate(ctx: Context, args: string[], human: (result: Record<string, unknown>) => string): Promise<number> {
  const { code, stdout } = await runDaemonMain(args, { captureStdout: true })
  const last = stdout.trim().split('\n').pop() ?? '{}'
  let result: Record<string, unknown> = {}
  try {
    result = JSON.parse(last) as Record<string, unknown>
  } catch {
    result = {}
  }
  if (code === 0) ctx.out.result(result, () => human(result))
  else if (ctx.out.json) process.stdout.write(last + '\n')
  return code
}

export async function initCommand(ctx: Context, flags: NetworkFlags & { lockMode?: string }): Promise<number> {
  if (flags.lockMode !== undefined && flags.lockMode !== 'strict' && flags.lockMode !== 'available') {
    throw new UsageError('--lock-mode takes strict or available')
  }
  const args = ['init', '--data', ctx.dataDir, ...networkArgs(flags)]
  if (flags.lockMode !== undefined) args.push('--lock-mode', flags.lockMode)
  return await delegate(ctx, args, (r) => `created filesystem ${String(r['fsId'])} in ${ctx.dataDir}\nstart it with: ivy daemon --mount DIR`)
}

export async function daemonCommand(ctx: Context, flags: NetworkFlags & { mount?: string }): Promise<number> {
  const args = ['run', '--data', ctx.dataDir, ...networkArgs(flags)]
  if (flags.mount !== undefined) args.push('--mount', resolve(flags.mount))
  const { code } = await runDaemonMain(args)
  return code
}

export async function joinCommand(ctx: Context, ticket: string, flags: NetworkFlags & { timeout?: string }): Promise<number> {
  if (!ticket.startsWith('ivy1-')) throw new UsageError('that is not an ivyfs ticket (they start with ivy1-; get one with `ivy invite` on a member)')
  const args = ['join', ticket, '--data', ctx.dataDir, ...networkArgs(flags)]
  if (flags.timeout !== undefined) {
    const ms = Number(flags.timeout) * 1000
    if (!Number.isFinite(ms) || ms <= 0) throw new UsageError('--timeout takes seconds')
    args.push('--timeout-ms', String(Math.round(ms)))
  }
  return await delegate(ctx, args, (r) => `joined filesystem ${String(r['fsId'])}\nstart it with: ivy daemon --mount DIR`)
}

export async function inviteCommand(ctx: Context, options: { ttl?: string; address?: string[] }): Promise<void> {
  let ttlMs: number | undefined
  if (options.ttl !== undefined) {
    const match = /^(\d+)(s|m|h|d)?$/.exec(options.ttl)
    if (match === null) throw new UsageError('--ttl takes a duration like 30m, 12h or 7d')
    ttlMs = Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's') as 's']
  }
  const result = await ctx.call<{ ticket: string }>('invite', {
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(options.address === undefined ? {} : { addresses: options.address })
  })
  const expires = ttlMs === undefined ? '' : dim(` (valid until ${formatTime(Date.now() + ttlMs)})`)
  ctx.out.result(result, () => `${result.ticket}\n\non the new machine: ivy join ${result.ticket.slice(0, 16)}…${expires}`)
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
    ctx.out.result(result, () => (result.mountPoint === null ? 'not mounted' : `unmounted ${result.mountPoint}`))
    return EXIT.ok
  }
  if (dir === undefined) throw new UsageError('no daemon is running: say which DIR to clean up (ivy unmount DIR)')
  return await delegate(ctx, ['unmount', resolve(dir)], (r) =>
    r['unmounted'] === true ? `freed the stale mount at ${String(r['mountPoint'])}` : `${String(r['mountPoint'])} was not mounted`
  )
}
