// A change closed on one machine's mount, seen on another's: two daemons of one filesystem on
// loopback, each with its mount; a child process rewrites a file on mount A (each version one byte
// longer), another reads it in a loop on mount B. The figure is close on A returned -> B read the
// whole new version, p50 and p99. It covers replication, the view's apply, and the kernel's caches
// on B: a cached size or page would hold B at the old version until the mount invalidates it
// (or the attribute timeout expires). Target (bench/README.md): p50 <= 30 ms, p99 <= 150 ms.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDaemons } from './lib/daemons.mjs'
import { atMost, row } from './lib/table.mjs'

const CHILD = fileURLToPath(new URL('./lib/visibility-child.mjs', import.meta.url))
const VERSIONS = Number(process.env.IVY_BENCH_VISIBILITY_VERSIONS ?? 300)

function lines(child) {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.on('error', reject)
    child.on('exit', () =>
      resolve(
        out
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line))
      )
    )
  })
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

/** Measures the delay on the code of `root` (the repository by default). */
export async function measure(root, versions = VERSIONS) {
  const { daemons, stop } = await startDaemons(root, 2, { lockMode: 'available', mount: true })
  try {
    const [a, b] = daemons
    const file = 'visible'
    const watch = (mount) => spawn(process.execPath, [CHILD, 'watch', join(mount, file), String(versions)])
    const remote = watch(b.mount)
    const local = watch(a.mount)
    const writer = spawn(process.execPath, [CHILD, 'write', join(a.mount, file), String(versions)])
    const [seenRemote, seenLocal, written] = await Promise.all([lines(remote), lines(local), lines(writer)])
    const writtenAt = new Map(written.map((entry) => [entry.i, entry.t]))
    const delaysOf = (seen) =>
      seen
        .map((entry) => entry.t - (writtenAt.get(entry.i) ?? Number.NaN))
        .filter((ms) => Number.isFinite(ms))
        .sort((x, y) => x - y)
    const delays = delaysOf(seenRemote)
    return { delays, local: delaysOf(seenLocal), missed: versions - delays.length }
  } finally {
    await stop()
  }
}

export async function run({ root }) {
  const { delays, local, missed } = await measure(root)
  const note = `${delays.length} versions (${missed} overtaken by the next before B read them); 2 daemons, available mode; a reader polls every ~0.5 ms`
  const figure = (p, target) =>
    row({
      what: `close on mount A → whole new version read on mount B, p${p}`,
      value: percentile(delays, p),
      unit: 'ms',
      baseline: 'a reader on mount A itself',
      baselineValue: percentile(local, p),
      lowerIsBetter: true,
      target: atMost(target, 'ms'),
      note: p === 50 ? note : `max ${delays.at(-1)?.toFixed(1)} ms`
    })
  return [figure(50, 30), figure(99, 150)]
}

// `node bench/visibility.mjs [ROOT]` measures the tree at ROOT (another checkout, to compare).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), '..')
  const { delays, local, missed } = await measure(root)
  const summary = (d) => ({ p50: percentile(d, 50), p99: percentile(d, 99), max: d.at(-1), seen: d.length })
  console.log(JSON.stringify({ root, remote: summary(delays), local: summary(local), missed }))
}
