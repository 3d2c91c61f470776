// `npm run bench -- lock`: exclusive-create (mkdir through the fs API of a daemon) latency p50/p99
// and throughput with 1, 3 and 5 daemon processes on 127.0.0.1, uncontended and contended, next
// to a plain (non-exclusive) create on the same daemon in the same run; in the root (a majority
// round trip) and in a directory the daemon made (delegated to it: decided alone), and with 16
// concurrent callers.
import { atLeast, atMost, percentile, row } from './lib/table.mjs'
import { quick } from './lib/proc.mjs'
import { startDaemons } from './lib/daemons.mjs'

const OPS = quick ? 30 : 300
const ROUNDS = quick ? 10 : 100
const CALLERS = 16
const PER_CALLER = Math.floor(OPS / CALLERS)

async function timed(fn) {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

export async function run({ root }) {
  const rows = []
  for (const size of [1, 3, 5]) {
    const cluster = await startDaemons(root, size)
    try {
      const [a] = cluster.daemons
      // Interleave exclusive mkdir and plain create so both see the same machine noise.
      const exclusive = []
      const plain = []
      for (let i = 0; i < OPS; i++) {
        exclusive.push(await timed(() => a.call('fs.mkdir', { path: `/u${i}` })))
        plain.push(await timed(() => a.call('fs.create', { path: `/p${i}` })))
      }
      exclusive.sort((x, y) => x - y)
      plain.sort((x, y) => x - y)
      const p50 = percentile(exclusive, 50)
      const p99 = percentile(exclusive, 99)
      const note = `plain create p50 ${percentile(plain, 50).toFixed(1)} ms, p99 ${percentile(plain, 99).toFixed(1)} ms`
      rows.push(
        row({
          what: `${size} daemon${size > 1 ? 's' : ''}: exclusive mkdir p50, uncontended`,
          value: p50,
          unit: 'ms',
          baseline: 'plain create p50',
          baselineValue: percentile(plain, 50),
          lowerIsBetter: true,
          ...(size === 3 ? { target: atMost(10, 'ms') } : {})
        }),
        row({
          what: `${size} daemon${size > 1 ? 's' : ''}: exclusive mkdir p99, uncontended`,
          value: p99,
          unit: 'ms',
          baseline: 'plain create p99',
          baselineValue: percentile(plain, 99),
          lowerIsBetter: true,
          ...(size === 3 ? { target: atMost(50, 'ms') } : {}),
          note
        }),
        row({
          what: `${size} daemon${size > 1 ? 's' : ''}: exclusive mkdir throughput, one caller`,
          value: 1000 / (exclusive.reduce((s, x) => s + x, 0) / OPS),
          unit: 'ops/s',
          baseline: 'plain create',
          baselineValue: 1000 / (plain.reduce((s, x) => s + x, 0) / OPS)
        })
      )
      // Inside a directory this daemon made: delegated to it, decided without a round trip.
      await a.call('fs.mkdir', { path: '/mine' })
      const delegated = []
      for (let i = 0; i < OPS; i++)
        delegated.push(await timed(() => a.call('fs.mkdir', { path: `/mine/u${i}` })))
      delegated.sort((x, y) => x - y)
      rows.push(
        row({
          what: `${size} daemon${size > 1 ? 's' : ''}: exclusive mkdir p50 in a directory it made (delegated)`,
          value: percentile(delegated, 50),
          unit: 'ms',
          baseline: 'plain create p50',
          baselineValue: percentile(plain, 50),
          lowerIsBetter: true,
          ...(size === 3 ? { target: atMost(3, 'ms') } : {}),
          note: `p99 ${percentile(delegated, 99).toFixed(1)} ms`
        })
      )
      // 16 callers at once, distinct names: in the root, then in the delegated directory.
      for (const [where, dir] of [
        ['the root', ''],
        ['its directory', '/mine']
      ]) {
        const start = performance.now()
        await Promise.all(
          Array.from({ length: CALLERS }, async (_, caller) => {
            for (let i = 0; i < PER_CALLER; i++) await a.call('fs.mkdir', { path: `${dir}/k${caller}-${i}` })
          })
        )
        rows.push(
          row({
            what: `${size} daemon${size > 1 ? 's' : ''}: exclusive mkdir throughput, ${CALLERS} callers, in ${where}`,
            value: (PER_CALLER * CALLERS) / ((performance.now() - start) / 1000),
            unit: 'ops/s',
            ...(size === 3 ? { target: atLeast(1000, 'ops/s') } : {})
          })
        )
      }
      if (size > 1) {
        // Contended: every daemon races for the same name each round; exactly one may win.
        const rounds = []
        let doubleWins = 0
        for (let r = 0; r < ROUNDS; r++) {
          const start = performance.now()
          const results = await Promise.allSettled(
            cluster.daemons.map((d) => d.call('fs.mkdir', { path: `/c${r}` }))
          )
          rounds.push(performance.now() - start)
          if (results.filter((x) => x.status === 'fulfilled').length !== 1) doubleWins++
        }
        rounds.sort((x, y) => x - y)
        rows.push(
          row({
            what: `${size} daemons: contended round (all race one name) p50`,
            value: percentile(rounds, 50),
            unit: 'ms',
            note: `p99 ${percentile(rounds, 99).toFixed(1)} ms; rounds without exactly one winner: ${doubleWins}`
          }),
          row({
            what: `${size} daemons: contended throughput`,
            value: 1000 / (rounds.reduce((s, x) => s + x, 0) / ROUNDS),
            unit: 'locks/s'
          })
        )
        if (doubleWins > 0) throw new Error(`${doubleWins} contended rounds did not have exactly one winner`)
      }
    } finally {
      await cluster.stop()
    }
  }
  return rows
}
