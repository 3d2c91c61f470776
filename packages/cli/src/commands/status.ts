/** `ivy status`, `ivy peers`, `ivy members`. */
import type { MemberStatus, Status } from '@ivyfs/daemon'
import type { Context } from '../context.js'
import { bold, dim, green, red, short, table, yellow } from '../output.js'

type PeerStatus = Status['peers'][number]

export async function statusCommand(ctx: Context): Promise<void> {
  const status = await ctx.call<Status>('status')
  ctx.out.result(status, () => formatStatus(status))
}

function formatStatus(s: Status): string {
  const connected = s.members.filter((m) => m.connected && !m.self).length
  const lines = [
    `${bold('filesystem')}   ${s.fsId}`,
    `${bold('participant')}  ${s.participant} ${dim('(this daemon)')}`,
    `${bold('data')}         ${s.dataDir} ${dim(`(pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)} s)`)}`,
    `${bold('mount')}        ${s.mount ?? dim('not mounted (ivy mount DIR)')}`,
    `${bold('lock mode')}    ${s.lockMode}`,
    `${bold('members')}      ${s.members.length} (${connected} of ${s.members.length - 1} others connected)`,
    `${bold('records')}      ${s.records} held, ${s.behind === 0 ? green('caught up') : yellow(`${s.behind} behind`)}`,
    `${bold('conflicts')}    ${s.conflicts === 0 ? green('none') : yellow(`${s.conflicts} open`) + dim('  (ivy conflicts)')}`,
    `${bold('forks')}        ${s.forks === 0 ? 'none' : red(`${s.forks} detected`)}`,
    `${bold('listening')}    ${s.listen.join(', ') || dim('nowhere')}`
  ]
  if (s.peers.length > 0) lines.push('', formatPeers(s.peers))
  const lagging = s.logs.filter((log) => log.missing > 0)
  if (lagging.length > 0) {
    lines.push('', bold('logs behind'))
    lines.push(table([['log', 'held', 'missing'], ...lagging.map((l) => [short(l.author), String(l.held), String(l.missing)])]))
  }
  return lines.join('\n')
}

function formatPeers(peers: PeerStatus[]): string {
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

export async function peersCommand(ctx: Context): Promise<void> {
  const peers = await ctx.call<PeerStatus[]>('peers')
  ctx.out.result(peers, () => (peers.length === 0 ? 'no peers known yet' : formatPeers(peers)))
}

export async function membersCommand(ctx: Context): Promise<void> {
  const members = await ctx.call<MemberStatus[]>('members')
  ctx.out.result(members, () =>
    table([
      ['member', 'state'],
      ...members.map((m) => [m.key, m.self ? 'this daemon' : m.connected ? green('connected') : dim('not connected')])
    ])
  )
}
