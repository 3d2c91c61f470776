/** `ivy status [--wait]`, `ivy peers`, `ivy members`. */
import type { MemberStatus, Status } from '@ivyfs/daemon'
import type { Context } from '../context.js'
import { WaitTimeoutError } from '../exit-codes.js'
import { bold, dim, green, red, short, table, yellow } from '../output.js'
import { parseTimeout } from '../parse.js'
import { Progress } from '../progress.js'

type PeerStatus = Status['peers'][number]

/** How often `--wait` asks the daemon. */
export const WAIT_POLL_MS = 200

/** `--wait` gives up after this long unless --timeout says otherwise. */
export const WAIT_TIMEOUT_MS_DEFAULT = 300_000

/** Caught up: nothing any peer told us about is missing, and (with other members) one replicates with us. */
export function caughtUp(s: Status): boolean {
  return s.behind === 0 && (s.members.length <= 1 || s.peers.some((peer) => peer.replicating))
}

export function syncWords(s: Status): string {
  if (caughtUp(s)) return green('caught up')
  if (s.behind === 0) return yellow('no peer reachable: cannot tell what is missing')
  const percent = Math.floor((100 * s.records) / (s.records + s.behind))
  return yellow(`${s.behind} behind (${percent}% of what peers hold)`)
}

export function formatStatus(s: Status): string {
  const others = s.members.filter((m) => !m.self)
  const connected = others.filter((m) => m.connected).length
  const lines = [
    `${bold('filesystem')}   ${s.fsId}`,
    `${bold('participant')}  ${s.participant} ${dim('(this daemon)')}`,
    `${bold('data')}         ${s.dataDir} ${dim(`(pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)} s)`)}`,
    `${bold('mount')}        ${s.mount ?? dim('not mounted (ivy mount DIR)')}`,
    `${bold('lock mode')}    ${s.lockMode}`,
    `${bold('members')}      ${s.members.length} (${connected} of ${others.length} others connected)`,
    `${bold('records')}      ${s.records} held, ${syncWords(s)}`,
    `${bold('conflicts')}    ${s.conflicts === 0 ? green('none') : yellow(`${s.conflicts} open`) + dim('  (ivy conflicts)')}`,
    `${bold('forks')}        ${s.forks === 0 ? 'none' : red(`${s.forks} detected`) + dim('  (a member signed two records with one seq)')}`,
    `${bold('listening')}    ${s.listen.join(', ') || dim('nowhere')}`
  ]
  if (s.peers.length > 0) lines.push('', formatPeers(s.peers))
  if (s.logs.length > 0) {
    lines.push(
      '',
      table([
        ['log', 'held', 'missing'],
        ...s.logs.map((l) => [
          short(l.author),
          String(l.held),
          l.missing === 0 ? '0' : yellow(String(l.missing))
        ])
      ])
    )
  }
  return lines.join('\n')
}

export function formatPeers(peers: PeerStatus[]): string {
  if (peers.length === 0) return 'no peers known yet'
  return table([
    ['peer', 'state', 'latency', 'they lack', 'we lack', 'address'],
    ...peers.map((p) => [
      short(p.key),
      p.connected ? (p.replicating ? green('replicating') : yellow('connected')) : red('disconnected'),
      p.latencyMs === undefined || p.latencyMs === null ? '-' : `${Math.round(p.latencyMs)} ms`,
      String(p.lag),
      String(p.behind),
      p.addresses[0] ?? '-'
    ])
  ])
}

export function formatMembers(members: MemberStatus[]): string {
  return table([
    ['member', 'state'],
    ...members.map((m) => [
      m.key,
      m.self ? 'this daemon' : m.connected ? green('connected') : dim('not connected')
    ])
  ])
}

export interface StatusOptions {
  wait?: boolean
  timeout?: string
}

export async function statusCommand(ctx: Context, options: StatusOptions = {}): Promise<void> {
  const timeoutMs = options.timeout === undefined ? WAIT_TIMEOUT_MS_DEFAULT : parseTimeout(options.timeout)
  const status = options.wait === true ? await waitCaughtUp(ctx, timeoutMs) : await ctx.call<Status>('status')
  ctx.out.result(status, () => formatStatus(status))
}

/** Polls until caught up, drawing the catch-up on stderr when it is a terminal. */
async function waitCaughtUp(ctx: Context, timeoutMs: number): Promise<Status> {
  const deadline = Date.now() + timeoutMs
  const progress = new Progress('catching up', { enabled: !ctx.out.json })
  try {
    for (;;) {
      const s = await ctx.call<Status>('status')
      if (caughtUp(s)) return s
      progress.update(
        s.behind > 0
          ? { label: 'catching up', done: s.records, total: s.records + s.behind, unit: 'records' }
          : { label: 'waiting for a peer' }
      )
      if (Date.now() > deadline) {
        throw new WaitTimeoutError(
          s.behind > 0
            ? `still ${s.behind} records behind after ${Math.round(timeoutMs / 1000)} s`
            : `no peer replicated with this daemon within ${Math.round(timeoutMs / 1000)} s`
        )
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS))
    }
  } finally {
    progress.done()
  }
}

export async function peersCommand(ctx: Context): Promise<void> {
  const peers = await ctx.call<PeerStatus[]>('peers')
  ctx.out.result(peers, () => formatPeers(peers))
}

export async function membersCommand(ctx: Context): Promise<void> {
  const members = await ctx.call<MemberStatus[]>('members')
  ctx.out.result(members, () => formatMembers(members))
}
