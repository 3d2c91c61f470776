// `npm run bench -- fuse`: the ivyfs mount, side by side in one run with
//   - a trivial in-memory fuse-napi filesystem with the same mount code and options
//     (mountMemoryFilesystem of packages/fuse, served from its own process), and
//   - the plain local directory (same disk as the daemon's data).
// The ivyfs mount is a real daemon process (`main.js run --mount DIR`) on a one-member
// filesystem. Every mount is driven only from child processes (dd, a small-file writer, sh,
// find, cat, make, gcc); this process never touches a mount.
//
// - sequential 128 KiB write of 256 MiB of random bytes: `dd … bs=128k conv=fsync` (ivyfs's time
//   includes making the data durable), then the page cache is dropped, then the read with dd;
// - 1 KiB files: create + write 1 KiB + close, N files in one process (node, sync calls);
// - Modified-Andrew-style run, per phase: mkdir a tree, copy a source tree in (create/write),
//   stat everything (find -ls), read everything (cat), compile a generated 20-file C project
//   with make.
// IVYFS_FUSE_MAX_CONCURRENCY sets fuse-napi's worker count of both mounts (default 4).
// Repetitions are interleaved (ivyfs, memory, local, rotating). `--quick`: 32 MiB, 300 files,
// a smaller tree, 2 repetitions.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, openSync, closeSync, writeSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { atLeastRatio, row } from './lib/table.mjs'
import {
  dropCaches,
  log,
  median,
  memoryOf,
  nodeChild,
  quick,
  run as runProgram,
  stopChild
} from './lib/proc.mjs'
import { releaseMounts, startDaemons, waitForMount } from './lib/daemons.mjs'
import { andrewLabel, andrewRun, andrewSizes, makeSourceTree } from './lib/andrew.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '..')
const SELF = fileURLToPath(import.meta.url)
const MiB = 1024 * 1024

const sizes = () =>
  quick
    ? { seqBytes: 32 * MiB, smallFiles: 300, reps: 2, andrew: andrewSizes(true) }
    : { seqBytes: 256 * MiB, smallFiles: 2000, reps: 3, andrew: andrewSizes(false) }

export async function run() {
  const S = sizes()
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-fuse-'))
  const children = new Set()
  const mounts = []
  let cluster
  const track = (child) => (children.add(child), child.once('exit', () => children.delete(child)), child)
  try {
    const memMount = join(work, 'mnt-mem')
    const local = join(work, 'local')
    await Promise.all([memMount, local].map((dir) => mkdir(dir)))

    // The ivyfs daemon with its mount (init, run --mount; a one-member filesystem).
    cluster = await startDaemons(ROOT, 1, { mount: true })
    const [{ mount: ivyMount, child: daemon }] = cluster.daemons

    // The in-memory baseline in its own process.
    const memory = track(
      spawn(process.execPath, [SELF, '--child', 'memory', memMount], {
        stdio: ['ignore', 'ignore', 'inherit']
      })
    )
    mounts.push(memMount)
    await waitForMount(memMount, memory)
    log(
      `fuse: mounted ivyfs at ${ivyMount} (pid ${daemon.pid}) and the memory fs at ${memMount} (pid ${memory.pid})`
    )

    // Inputs on the local disk: random bytes for dd, a source tree for the Andrew run.
    const source = join(work, 'random.bin')
    await writeRandomFile(source, S.seqBytes)
    const tree = join(work, 'andrew-src')
    await makeSourceTree(tree, S.andrew)

    const targets = { ivyfs: ivyMount, memory: memMount, local }
    const names = Object.keys(targets)
    const seqWrite = Object.fromEntries(names.map((n) => [n, []]))
    const seqRead = Object.fromEntries(names.map((n) => [n, []]))
    const small = Object.fromEntries(names.map((n) => [n, []]))
    const andrew = Object.fromEntries(names.map((n) => [n, []]))
    const rss = []
    for (let rep = 0; rep < S.reps; rep++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + rep) % names.length]
        const dir = targets[name]
        // Sequential write and read.
        const file = join(dir, `seq-${rep}.bin`)
        const write = await dd(['if=' + source, 'of=' + file, 'bs=128k', 'conv=fsync'])
        await dropCaches()
        const read = await dd(['if=' + file, 'of=/dev/null', 'bs=128k'])
        if (read.bytes !== S.seqBytes) throw new Error(`${name}: read back ${read.bytes} bytes`)
        await runProgram('rm', ['-f', file])
        seqWrite[name].push(S.seqBytes / 1e6 / write.seconds)
        seqRead[name].push(S.seqBytes / 1e6 / read.seconds)
        // 1 KiB files.
        const smallDir = join(dir, `small-${rep}`)
        const result = await nodeChild(SELF, ['--child', 'smallfiles', smallDir, String(S.smallFiles)])
        small[name].push(S.smallFiles / (result.ms / 1000))
        // Andrew.
        andrew[name].push(await andrewRun(tree, join(dir, `andrew-${rep}`)))
        if (name === 'ivyfs') rss.push(memoryOf(daemon.pid))
        const last = andrew[name][andrew[name].length - 1]
        log(
          `fuse rep ${rep + 1} ${name}: write ${seqWrite[name].at(-1).toFixed(0)} MB/s, read ${seqRead[name].at(-1).toFixed(0)} MB/s, ` +
            `1 KiB files ${small[name].at(-1).toFixed(0)}/s, Andrew ${last.total.toFixed(2)} s ` +
            `(${Object.entries(last.phases)
              .map(([p, s]) => `${p} ${s.toFixed(2)}`)
              .join(', ')})`
        )
      }
    }

    const med = (table, name) => median(table[name])
    const phaseMedian = (name, phase) => median(andrew[name].map((r) => r.phases[phase]))
    const totalMedian = (name) => median(andrew[name].map((r) => r.total))
    const phases = Object.keys(andrew.ivyfs[0].phases)
    const daemonPeak = Math.max(...rss.map((m) => m?.peakMB ?? 0))
    const mb = (n) => `${(n / MiB).toFixed(0)} MiB`
    const rows = [
      row({
        what: `sequential write, 128 KiB blocks, ${mb(S.seqBytes)}, dd conv=fsync`,
        value: med(seqWrite, 'ivyfs'),
        unit: 'MB/s',
        baseline: 'in-memory fuse-napi fs',
        baselineValue: med(seqWrite, 'memory'),
        target: atLeastRatio(0.75),
        note: `local dir ${med(seqWrite, 'local').toFixed(0)} MB/s; median of ${S.reps}, interleaved; ivyfs daemon peak RSS ${daemonPeak.toFixed(0)} MB`
      }),
      row({
        what: `sequential read, 128 KiB blocks, ${mb(S.seqBytes)}, page cache dropped`,
        value: med(seqRead, 'ivyfs'),
        unit: 'MB/s',
        baseline: 'in-memory fuse-napi fs',
        baselineValue: med(seqRead, 'memory'),
        target: atLeastRatio(0.75),
        note: `local dir ${med(seqRead, 'local').toFixed(0)} MB/s (from disk)`
      }),
      row({
        what: '1 KiB file create + write + close',
        value: med(small, 'ivyfs'),
        unit: 'files/s',
        baseline: 'in-memory fuse-napi fs',
        baselineValue: med(small, 'memory'),
        target: atLeastRatio(0.5),
        note: `${S.smallFiles} files per run, one process; local dir ${med(small, 'local').toFixed(0)} files/s; a close is written at once and made durable by the group commit`
      }),
      row({
        what: `Modified Andrew, total (${andrewLabel(S.andrew)})`,
        value: totalMedian('ivyfs'),
        unit: 's',
        baseline: 'local directory',
        baselineValue: totalMedian('local'),
        lowerIsBetter: true,
        target: { text: '≤ 2× local dir', check: ({ ratio }) => ratio !== undefined && ratio >= 0.5 },
        note: `ratio = local / ivyfs (≥ 0.5 meets it); in-memory fuse fs ${totalMedian('memory').toFixed(2)} s`
      })
    ]
    for (const phase of phases) {
      rows.push(
        row({
          what: `  Andrew phase: ${phase}`,
          value: phaseMedian('ivyfs', phase),
          unit: 's',
          baseline: 'local directory',
          baselineValue: phaseMedian('local', phase),
          lowerIsBetter: true,
          note: `in-memory fuse fs ${phaseMedian('memory', phase).toFixed(3)} s`
        })
      )
    }
    return rows
  } finally {
    // Unmount and stop everything, also on failure: the daemon and the memory server unmount on
    // SIGTERM; whatever is still mounted after that is freed by force.
    await Promise.all([...children].map((child) => stopChild(child)))
    await cluster?.stop()
    if (await releaseMounts(ROOT, mounts)) await rm(work, { recursive: true, force: true })
    else log(`fuse: a mount is still there; left ${work} (free it with ../shared/tools/unstick-fuse)`)
  }
}

/** Runs dd; its own report gives bytes and seconds (for the write, including the fsync). */
async function dd(args) {
  const { stderr } = await runProgram('dd', args, { timeoutMs: 600_000 })
  const match = /(\d+) bytes .* copied, ([\d.e+-]+) s/.exec(stderr)
  if (match === null) throw new Error(`unexpected dd output: ${stderr}`)
  return { bytes: Number(match[1]), seconds: Number(match[2]) }
}

async function writeRandomFile(path, bytes) {
  const fd = openSync(path, 'w')
  try {
    for (let at = 0; at < bytes; at += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, bytes - at)))
  } finally {
    closeSync(fd)
  }
}

// ---------------------------------------------------------------------------------------------
// Children (they may touch the mounts: none of them serves one, except 'memory', which never reads it)

async function serveMemory(mountPoint) {
  const { mountMemoryFilesystem } = await import(join(ROOT, 'packages/fuse/dist/index.js'))
  const handle = await mountMemoryFilesystem(mountPoint)
  process.on('SIGTERM', () => {
    handle.unmount().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  })
  await new Promise(() => {})
}

/** N files: open(O_CREAT|O_WRONLY|O_TRUNC), write 1 KiB, close — timed in this process. */
function smallFiles(dir, count) {
  mkdirSync(dir)
  const data = randomBytes(1024)
  const t0 = performance.now()
  for (let i = 0; i < count; i++) {
    const fd = openSync(join(dir, `f${i}`), 'w')
    writeSync(fd, data)
    closeSync(fd)
  }
  const ms = performance.now() - t0
  if (!existsSync(join(dir, `f${count - 1}`)) || readFileSync(join(dir, 'f0')).length !== 1024)
    throw new Error('small files not written')
  return { ms }
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  const [role, ...args] = process.argv.slice(3)
  const work =
    role === 'memory' ? serveMemory(args[0]) : Promise.resolve(smallFiles(args[0], Number(args[1])))
  work.then(
    (result) => {
      if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`)
      process.exit(1)
    }
  )
}
