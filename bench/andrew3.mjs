// `npm run bench -- andrew3`: the multi-peer scenario. Three daemons, each with its mount
// (`main.js init` / `join` with an invite ticket / `run --mount DIR`, 127.0.0.1), each running the
// Modified-Andrew-style workload of lib/andrew.mjs (mkdir, create/write, stat, read, compile) in its
// own directory of the one shared filesystem at the same time; then every mount must show all three
// directories with identical content.
//
// Per phase: seconds of each of the three workloads and the slowest, next to the same three
// workloads run at once on three local directories in the same run (and, once per repetition, one
// workload alone: on one of the three daemons' mounts, on a one-member daemon's mount, on a local
// directory). Repetitions rotate the order. Convergence, timed from the moment all three workloads finished:
//   - control socket: the three daemons report the same tree hash and version vector (fs.treeHash);
//   - mounts: a long-lived child process per mount walks the three directories and hashes them (paths, types,
//     permission bits, sizes, mtimes; lib/andrew.mjs treeDigest), rounds back to back, until a round
//     in which all nine digests agree per directory; first metadata only (lstat), then with every
//     file's bytes; each time is the end of the first agreeing round (an upper bound).
// Verified, not just timed: if the trees still differ after CONVERGE_TIMEOUT_MS, or their content
// differs from the same workload's on a local directory, or a daemon reports conflicts or forks,
// the benchmark fails. Only child processes touch a mount. `--quick`: a smaller tree, 2 repetitions.
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { row } from './lib/table.mjs'
import { log, median, memoryOf, now, quick, sleep, stopChild } from './lib/proc.mjs'
import { startDaemons } from './lib/daemons.mjs'
import { andrewLabel, andrewRun, andrewSizes, makeSourceTree, treeDigest } from './lib/andrew.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '..')
const SELF = fileURLToPath(import.meta.url)
const PEERS = 3
/** Bounded wait for the trees to agree after the workloads finished; past it the benchmark fails. */
const CONVERGE_TIMEOUT_MS = Number(process.env.IVY_BENCH_CONVERGE_TIMEOUT_MS ?? 60_000)
/** One walk of a mount (three directories); a hung mount fails the benchmark instead of hanging it. */
const WALK_TIMEOUT_MS = 120_000

const sizes = () => ({ andrew: andrewSizes(quick), reps: quick ? 2 : 3 })

export async function run() {
  const S = sizes()
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-andrew3-'))
  const clusters = []
  const walkers = []
  try {
    const tree = join(work, 'src')
    await makeSourceTree(tree, S.andrew)
    const local = join(work, 'local')
    await mkdir(local)

    const cluster = await startDaemons(ROOT, PEERS, { mount: true })
    clusters.push(cluster)
    const alone = await startDaemons(ROOT, 1, { mount: true })
    clusters.push(alone)
    const peers = cluster.daemons
    for (const d of peers) {
      d.walker = startWalker()
      walkers.push(d.walker)
    }
    log(
      `andrew3: ${PEERS} daemons mounted at ${peers.map((d) => `${d.mount} (pid ${d.child.pid})`).join(', ')}; ` +
        `one-member daemon at ${alone.daemons[0].mount}`
    )

    const results = { ivy3: [], local3: [], ivy1: [], local1: [], ivy3one: [] }
    const convergence = []
    const contenders = {
      ivy3: async (rep) => {
        const dirs = peers.map((_, i) => `r${rep}-d${i}`)
        const runs = await Promise.all(peers.map((d, i) => andrewRun(tree, join(d.mount, dirs[i]))))
        const finished = now()
        convergence.push(await converge(peers, dirs, finished))
        return runs
      },
      local3: async (rep) =>
        await Promise.all(peers.map((_, i) => andrewRun(tree, join(local, `r${rep}-d${i}`)))),
      ivy1: async (rep) => [await andrewRun(tree, join(alone.daemons[0].mount, `r${rep}`))],
      // One workload alone on one of the three daemons' mounts (the others idle but members): what
      // the 3-member filesystem costs one writer, apart from the three writers' contention.
      ivy3one: async (rep) => [await andrewRun(tree, join(peers[rep % PEERS].mount, `r${rep}-alone`))],
      local1: async (rep) => [await andrewRun(tree, join(local, `r${rep}-alone`))]
    }
    const order = Object.keys(contenders)
    for (let rep = 0; rep < S.reps; rep++) {
      for (let k = 0; k < order.length; k++) {
        const name = order[(k + rep) % order.length]
        const runs = await contenders[name](rep)
        results[name].push(runs)
        log(
          `andrew3 rep ${rep + 1} ${name}: ` +
            runs.map((r) => `${r.total.toFixed(2)} s (${phaseText(r.phases)})`).join('; ') +
            (name === 'ivy3' ? `; ${convergenceText(convergence.at(-1))}` : '')
        )
      }
      // The content on the mounts is what the same workload produces on a local directory.
      const reference = treeDigest(join(local, `r${rep}-d0`)).content
      for (const [i, digest] of convergence[rep].digests.entries())
        if (digest.content !== reference)
          throw new Error(
            `andrew3 rep ${rep + 1}: r${rep}-d${i} on the mounts differs from the local run's tree ` +
              `(${digest.files} files, ${digest.bytes} bytes on the mounts; local ${JSON.stringify(treeDigest(join(local, `r${rep}-d0`)))})`
          )
    }
    for (const d of [...peers, ...alone.daemons]) {
      const status = await d.call('status')
      if (status.conflicts !== 0 || status.forks !== 0)
        throw new Error(`daemon ${d.dir}: ${status.conflicts} conflicts, ${status.forks} forks after the run`)
    }
    const rss = peers.map((d) => memoryOf(d.child.pid)?.peakMB ?? NaN)

    // Figures: medians over the repetitions.
    const phases = Object.keys(results.ivy3[0][0].phases)
    const perRun = (name, i, pick) => median(results[name].map((runs) => pick(runs[i])))
    const slowest = (name, pick) => median(results[name].map((runs) => Math.max(...runs.map(pick))))
    const each = (name, pick) => peers.map((_, i) => `d${i} ${perRun(name, i, pick).toFixed(2)}`).join(', ')
    const wall = (runs) =>
      (Math.max(...runs.map((r) => r.endedAt)) - Math.min(...runs.map((r) => r.startedAt))) / 1000
    const common = `median of ${S.reps}, interleaved`
    const rows = [
      row({
        what: `${PEERS} daemons, Andrew at once on their mounts, slowest total (${andrewLabel(S.andrew)} each)`,
        value: slowest('ivy3', (r) => r.total),
        unit: 's',
        baseline: `${PEERS} local dirs at once`,
        baselineValue: slowest('local3', (r) => r.total),
        lowerIsBetter: true,
        target: { text: '≤ 2× local dirs', check: ({ ratio }) => ratio !== undefined && ratio >= 0.5 },
        note:
          `per daemon ${each('ivy3', (r) => r.total)} s; local ${each('local3', (r) => r.total)} s; ` +
          `wall ${median(results.ivy3.map(wall)).toFixed(2)} s (local ${median(results.local3.map(wall)).toFixed(2)} s); ` +
          `ratio = local / ivyfs (≥ 0.5 meets §8's Andrew target); ${common}; daemon peak RSS ${rss.map((m) => m.toFixed(0)).join(', ')} MB`
      })
    ]
    for (const phase of phases) {
      const pick = (r) => r.phases[phase]
      rows.push(
        row({
          what: `  phase: ${phase}, slowest of ${PEERS}`,
          value: slowest('ivy3', pick),
          unit: 's',
          baseline: `${PEERS} local dirs at once`,
          baselineValue: slowest('local3', pick),
          lowerIsBetter: true,
          note:
            `per daemon ${each('ivy3', pick)} s; local ${each('local3', pick)} s; one workload alone: ` +
            `on one of the ${PEERS} mounts ${perRun('ivy3one', 0, pick).toFixed(2)} s, one-member mount ${perRun('ivy1', 0, pick).toFixed(2)} s, local ${perRun('local1', 0, pick).toFixed(2)} s`
        })
      )
    }
    rows.push(
      row({
        what: `1 of ${PEERS} daemons, Andrew alone on its mount, total`,
        value: perRun('ivy3one', 0, (r) => r.total),
        unit: 's',
        baseline: '1 local dir',
        baselineValue: perRun('local1', 0, (r) => r.total),
        lowerIsBetter: true,
        note: `the other ${PEERS - 1} daemons members but idle (every mkdir/create needs their quorum answer in strict lock mode); ${common}`
      }),
      row({
        what: '1 daemon, Andrew alone on its mount, total',
        value: perRun('ivy1', 0, (r) => r.total),
        unit: 's',
        baseline: '1 local dir',
        baselineValue: perRun('local1', 0, (r) => r.total),
        lowerIsBetter: true,
        note: `one-member filesystem, the ${PEERS}-daemon cluster idle; ${common}`
      }),
      row({
        what: `convergence: all ${PEERS} mounts show the ${PEERS} trees with the same metadata`,
        value: median(convergence.map((c) => c.metaMs)),
        unit: 'ms',
        note:
          `from the last workload's end to the end of the first round of walks (lstat of every entry via each mount, a walker process per mount, in parallel) that agree: ` +
          `names, types, modes, sizes, mtimes; per rep ${convergence.map((c) => c.metaMs.toFixed(0)).join(', ')} ms, ` +
          `rounds ${convergence.map((c) => c.rounds.meta).join(', ')}, a round ${median(convergence.map((c) => c.roundMs.meta)).toFixed(0)} ms (an upper bound)`
      }),
      row({
        what: `convergence: all ${PEERS} mounts show the ${PEERS} trees identical (bytes too)`,
        value: median(convergence.map((c) => c.mountMs)),
        unit: 'ms',
        note:
          `then rounds that also read every file (sha256 of each tree via each mount) until they agree; ` +
          `per rep ${convergence.map((c) => c.mountMs.toFixed(0)).join(', ')} ms, rounds ${convergence.map((c) => c.rounds.content).join(', ')}, ` +
          `a round ${median(convergence.map((c) => c.roundMs.content)).toFixed(0)} ms; ${convergence[0].digests[0].files} files, ` +
          `${(convergence[0].digests[0].bytes / 1e6).toFixed(2)} MB per tree; content equal to the local run's; fails after ${CONVERGE_TIMEOUT_MS / 1000} s`
      }),
      row({
        what: `convergence: ${PEERS} daemons report the same tree hash (control socket)`,
        value: median(convergence.map((c) => c.controlMs)),
        unit: 'ms',
        note: `fs.treeHash polled every 10 ms on each daemon: same tree hash and version vector; per rep ${convergence.map((c) => c.controlMs.toFixed(0)).join(', ')} ms; no conflicts, no forks`
      })
    )
    return rows
  } finally {
    await Promise.all(walkers.map((w) => stopChild(w.child)))
    for (const cluster of clusters) await cluster.stop()
    await rm(work, { recursive: true, force: true })
  }
}

const phaseText = (phases) =>
  Object.entries(phases)
    .map(([p, s]) => `${p.split(' ')[0]} ${s.toFixed(2)}`)
    .join(', ')

const convergenceText = (c) =>
  `converged: control socket ${c.controlMs.toFixed(0)} ms, mounts: metadata ${c.metaMs.toFixed(0)} ms ` +
  `(${c.rounds.meta} round(s) of ${c.roundMs.meta.toFixed(0)} ms), content ${c.mountMs.toFixed(0)} ms ` +
  `(${c.rounds.content} round(s) of ${c.roundMs.content.toFixed(0)} ms)`

/**
 * Waits (bounded) until the daemons agree: their tree hashes and version vectors (control socket,
 * polled every 10 ms) and the digests of `dirs` walked through every mount (`d.walker`, a child
 * per mount, rounds back to back). Times in ms from `finished`. Throws, saying what differs, on timeout.
 */
async function converge(daemons, dirs, finished) {
  const deadline = finished + CONVERGE_TIMEOUT_MS
  let controlMs
  let lastControl
  const control = (async () => {
    // At least one poll and one round of each kind, so that a failure can say what differs.
    do {
      const hashes = await Promise.all(daemons.map((d) => d.call('fs.treeHash')))
      const t = now()
      lastControl = hashes
      const same = (h) => h.treeHash === hashes[0].treeHash && vvText(h.vv) === vvText(hashes[0].vv)
      if (hashes.every(same)) controlMs = t - finished
      else await sleep(10)
    } while (controlMs === undefined && now() < deadline)
  })()
  // Rounds of walks through every mount: metadata only (lstat) until those agree, then with the
  // bytes until those agree too. Each time is the end of the first agreeing round.
  const rounds = { meta: 0, content: 0 }
  const roundMs = { meta: 0, content: 0 }
  const agreedMs = {}
  let views
  for (const kind of ['meta', 'content']) {
    do {
      const t0 = now()
      views = await Promise.all(
        daemons.map((d) =>
          d.walker.walk(
            kind,
            dirs.map((dir) => join(d.mount, dir))
          )
        )
      )
      const t = now()
      rounds[kind]++
      roundMs[kind] = t - t0
      const agree = dirs.every((_, i) =>
        views.every((v) => v[i].ok && v[i].full === views[0][i].full && v[i].content === views[0][i].content)
      )
      if (agree) agreedMs[kind] = t - finished
    } while (agreedMs[kind] === undefined && now() < deadline)
  }
  const mountMs = agreedMs.content
  await control
  if (mountMs === undefined || controlMs === undefined) {
    const detail = dirs
      .map(
        (dir, i) =>
          `${dir}: ` +
          (views ?? [])
            .map((v, m) =>
              v[i].ok
                ? `mount ${m} ${v[i].full.slice(0, 12)} (${v[i].files} files, ${v[i].bytes} B)`
                : `mount ${m} error ${v[i].error}`
            )
            .join('; ')
      )
      .join('\n  ')
    throw new Error(
      `andrew3: the trees did not converge within ${CONVERGE_TIMEOUT_MS} ms after the workloads ended ` +
        `(mounts ${mountMs === undefined ? 'differ' : 'agree'}, tree hashes ${controlMs === undefined ? 'differ' : 'agree'}: ` +
        `${(lastControl ?? []).map((h) => `${h.treeHash.slice(0, 12)} [${vvText(h.vv)}]`).join(', ')})\n  ${detail}`
    )
  }
  return { controlMs, metaMs: agreedMs.meta, mountMs, rounds, roundMs, digests: views[0] }
}

/** A version vector as text, authors sorted (each daemon lists them in its own order). */
const vvText = (vv) =>
  Object.keys(vv)
    .sort()
    .map((author) => `${author}:${vv[author]}`)
    .join(',')

/**
 * A long-lived child that walks directories on request (IPC), so that a round of walks costs the
 * walk and not a process start. `walk(kind, dirs)` ('meta' or 'content') resolves with their
 * digests; a walk that outlives WALK_TIMEOUT_MS (a hung mount) kills the child and rejects.
 */
function startWalker() {
  const child = spawn(process.execPath, [SELF, '--child', 'walker'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  let pending
  child.on('message', (digests) => pending?.resolve(digests))
  child.once('exit', (code, signal) => pending?.reject(new Error(`walker exited with ${code ?? signal}`)))
  return {
    child,
    walk: (kind, dirs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL')
          reject(new Error(`walking ${dirs.join(', ')} took more than ${WALK_TIMEOUT_MS} ms`))
        }, WALK_TIMEOUT_MS)
        const settle = (fn) => (value) => {
          clearTimeout(timer)
          pending = undefined
          fn(value)
        }
        pending = { resolve: settle(resolve), reject: settle(reject) }
        child.send({ kind, dirs })
      })
  }
}

// ---------------------------------------------------------------------------------------------
// Child: walks and hashes directories (inside mounts; this child serves none).

if (process.argv[1] === SELF && process.argv[2] === '--child' && process.argv[3] === 'walker') {
  process.on('message', ({ kind, dirs }) => {
    const digests = dirs.map((dir) => {
      try {
        return { ok: true, ...treeDigest(dir, { read: kind === 'content' }) }
      } catch (err) {
        return { ok: false, error: `${err.code ?? ''} ${err.message}` }
      }
    })
    process.send(digests)
  })
}
