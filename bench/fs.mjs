// `npm run bench -- fs`: the view (packages/fs) under a mixed workload of four writers.
//
// - apply rate: records of the workload (bench/lib/fs-workload.mjs, unsigned: signature checks
//   excluded) fed to the view (a) one by one to View.ingest in the order a catch-up delivers
//   them (author by author per round, so records that sort before already applied ones roll the
//   suffix back), (b) in that order but queued in batches (View.enqueue + flush, as Filesystem
//   applies each batch the store announces: one rollback per batch) and (c) one by one in the
//   merged order (live arrival, no rollback). Baseline, interleaved batch by batch: the same ops applied to a
//   plain tree without order, undo or conflicts (bench/lib/plain-tree.mjs).
// - open: a filesystem of 1,000,000 signed records from 4 logs (≈ 100,000 files, one 256 MiB
//   blob-backed file), built once into bench/.cache/ as a daemon data directory. Opened in a
//   fresh child (snapshot + records after it) next to a rescan of the whole history; also a real
//   daemon process on it (its RSS is the memory figure).
// - late record: on top of that history, 1,000 new records of 3 authors stay tentative (the 4th
//   has not seen them); then the 4th's record arrives that sorts before all of them. Its cost
//   (rollback + replay) is timed next to applying those 1,000 records in order.
// `--quick`: 100,000 records (≈ 10,000 files, 32 MiB big file), fewer repetitions.
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { atLeast, atMost, row } from './lib/table.mjs'
import { dropCaches, log, median, memoryOf, nodeChild, quick, stopChild, waitFor } from './lib/proc.mjs'
import { BLOB_POOL_COUNT, BLOB_POOL_SIZES, Workload } from './lib/fs-workload.mjs'
import { PlainTree } from './lib/plain-tree.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '..')
const SELF = fileURLToPath(import.meta.url)
const SEED = 2002
/** Records per batch in the batched catch-up measurement (one store announcement of a catch-up). */
const CATCH_UP_BATCH_RECORDS = 1024
/** Bump when the workload or the store format changes: the cache is rebuilt. */
export const CACHE_VERSION = 2
const MiB = 1024 * 1024

export const sizes = (isQuick) =>
  isQuick
    ? { records: 100_000, bigBytes: 32 * MiB, opens: 2, lateRounds: 3, applyBatch: 8192 }
    : { records: 1_000_000, bigBytes: 256 * MiB, opens: 4, lateRounds: 5, applyBatch: 8192 }

const dist = (pkg) => join(ROOT, 'packages', pkg, 'dist', 'index.js')

// ---------------------------------------------------------------------------------------------
// The benchmark (runs in bench/run.mjs's process, drives children)

export async function run() {
  const S = sizes(quick)
  const rows = []
  const mb = (x) => `${Math.round(x)} MB`

  // 1. Apply rate, in two children (catch-up order, merged order).
  log(`apply: ${S.records.toLocaleString('en-US')} records, catch-up order …`)
  const arrival = await nodeChild(SELF, ['--child', 'apply', String(S.records), 'arrival'], {
    execArgv: ['--expose-gc']
  })
  log(`apply: catch-up order, queued in batches of ${CATCH_UP_BATCH_RECORDS} …`)
  const batched = await nodeChild(SELF, ['--child', 'apply', String(S.records), 'arrival-batch'], {
    execArgv: ['--expose-gc']
  })
  log(`apply: merged order …`)
  const sorted = await nodeChild(SELF, ['--child', 'apply', String(S.records), 'sorted'], {
    execArgv: ['--expose-gc']
  })
  const applyNote = (r) =>
    `${r.replayedPerRecord.toFixed(1)} replays/record; CPU-time rate ${fmtK(r.ivyCpuRate)}/s (baseline ${fmtK(r.plainCpuRate)}/s); ` +
    `${r.liveFiles.toLocaleString('en-US')} files, ${r.conflicts} conflicts; child RSS ${mb(r.rssMB)} (heap ${mb(r.heapMB)} after GC)`
  rows.push(
    row({
      what: `apply rate, 4 logs, catch-up arrival order, each record applied on arrival (View.ingest: the worst case, a rollback per late record; the daemon queues them, next row) (${fmtK(S.records)} records)`,
      value: arrival.ivyRate,
      unit: 'records/s',
      baseline: 'plain tree, same ops',
      baselineValue: arrival.plainRate,
      target: atLeast(100_000, 'records/s'),
      note: applyNote(arrival)
    }),
    row({
      what: `apply rate, 4 logs, catch-up arrival order, applied in batches of ${CATCH_UP_BATCH_RECORDS} (View.enqueue, as Filesystem applies a store announcement)`,
      value: batched.ivyRate,
      unit: 'records/s',
      baseline: 'plain tree, same ops',
      baselineValue: batched.plainRate,
      target: atLeast(100_000, 'records/s'),
      note: applyNote(batched)
    }),
    row({
      what: `apply rate, 4 logs, merged order (live arrival)`,
      value: sorted.ivyRate,
      unit: 'records/s',
      baseline: 'plain tree, same ops',
      baselineValue: sorted.plainRate,
      target: atLeast(100_000, 'records/s'),
      note: applyNote(sorted)
    })
  )

  // 2. The signed store (cached).
  const cacheDir = join(here, '.cache', `fs-${S.records}-v${CACHE_VERSION}`)
  const meta = await ensureStore(cacheDir, S)
  log(
    `store: ${meta.records.toLocaleString('en-US')} records, ${meta.liveFiles.toLocaleString('en-US')} files, built in ${meta.buildSeconds.toFixed(0)} s`
  )

  // 3. Open: snapshot (cold, then warm) interleaved with the full-history rescan.
  const work = join(tmpdir(), `ivy-bench-fs-${process.pid}`)
  await rm(work, { recursive: true, force: true })
  await cp(cacheDir, work, { recursive: true })
  try {
    const opens = []
    const rescans = []
    for (let i = 0; i < S.opens; i++) {
      const cold = i === 0 && (await dropCaches())
      const result = await nodeChild(SELF, ['--child', 'open', work, i === S.opens - 1 ? 'explore' : 'plain'])
      log(
        `open ${i + 1}${cold ? ' (cold cache)' : ''}: ${result.openMs.toFixed(0)} ms, RSS ${mb(result.rssMB)}, ${result.afterSnapshot} records after the snapshot`
      )
      opens.push({ ...result, cold })
      if (i === 0) {
        log('rescan of the whole history (baseline) …')
        const rescan = await nodeChild(SELF, ['--child', 'rescan', work])
        log(`rescan: ${(rescan.openMs / 1000).toFixed(1)} s, RSS ${mb(rescan.rssMB)}`)
        rescans.push(rescan)
      }
    }
    const warm = opens.filter((o) => !o.cold)
    const openMs = median((warm.length > 0 ? warm : opens).map((o) => o.openMs))
    const explored = opens[opens.length - 1]
    const cold = opens.find((o) => o.cold)
    const rescan = rescans[0]

    // 4. A real daemon process on the same data directory.
    const daemon = await daemonOpen(work)
    log(
      `daemon: ready in ${daemon.readyMs.toFixed(0)} ms, RSS ${mb(daemon.rssMB)} (peak ${mb(daemon.peakMB)})`
    )

    rows.push(
      row({
        what: `open, ${fmtK(meta.records)} records from 4 logs (snapshot), warm cache`,
        value: openMs,
        unit: 'ms',
        baseline: 'rescan of every record (no snapshot)',
        baselineValue: rescan.openMs,
        lowerIsBetter: true,
        target: atMost(1000, 'ms'),
        note:
          `LogStore.open ${explored.storeMs.toFixed(0)} ms + snapshot load and ${explored.afterSnapshot} records after it` +
          (cold === undefined ? '' : `; cold cache ${cold.openMs.toFixed(0)} ms`) +
          `; RSS after open ${mb(explored.rssMB)}; rescan RSS ${mb(rescan.rssMB)}`
      }),
      row({
        what: `RSS of the opened view: ${fmtK(meta.liveFiles)} files from ${fmtK(meta.records)} records`,
        value: explored.peakMB,
        unit: 'MB',
        target: atMost(300, 'MB'),
        note:
          `peak (VmHWM) of the open child after walking the tree (${explored.walk.files.toLocaleString('en-US')} files, ` +
          `${explored.walk.dirs.toLocaleString('en-US')} dirs in ${explored.walk.ms.toFixed(0)} ms) and reading the ` +
          `${explored.big.bytes / MiB} MiB file in 1 MiB readInto calls, the mount's read path (${explored.big.mbPerS.toFixed(0)} MB/s); RSS after open ${mb(explored.rssMB)}`
      }),
      row({
        what: 'daemon RSS on that data directory (main.js run)',
        value: daemon.peakMB,
        unit: 'MB',
        target: atMost(300, 'MB'),
        note: `peak after start and a readdir walk; RSS ${mb(daemon.rssMB)}; process start to control socket answering ${daemon.readyMs.toFixed(0)} ms`
      })
    )

    // 5. Late record (modifies the copy: last).
    log('late record …')
    const late = await nodeChild(SELF, ['--child', 'late', work, String(S.lateRounds)])
    log(
      `late record: ${late.lateMs.map((x) => x.toFixed(1)).join(', ')} ms (replayed ${late.replayed.join(', ')}); in-order 1,000: ${late.inOrderMs.map((x) => x.toFixed(1)).join(', ')} ms`
    )
    rows.push(
      row({
        what: 'late record sorting before a tentative suffix of 1,000 records',
        value: median(late.lateMs),
        unit: 'ms',
        baseline: 'the same 1,000 records applied in order',
        baselineValue: median(late.inOrderMs),
        lowerIsBetter: true,
        target: atMost(50, 'ms'),
        note: `median of ${late.lateMs.length}; replayed ${median(late.replayed)} records; view time only (store ingest and fsync excluded); on top of the ${fmtK(meta.records)}-record history; child peak RSS ${mb(late.peakMB)}`
      })
    )
    rows.push(
      row({
        what: `build of the ${fmtK(meta.records)}-record store (cached in bench/.cache/)`,
        value: meta.buildSeconds,
        unit: 's',
        note: `sign + verified ingest + view, group-committed; ${(meta.storeBytes / 1e6).toFixed(0)} MB on disk; ${meta.cachedAt}`
      })
    )
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return rows
}

function fmtK(n) {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`
  if (n >= 1000) return `${Math.round(n / 1000)}k`
  return String(Math.round(n))
}

export async function ensureStore(cacheDir, S) {
  const metaPath = join(cacheDir, 'bench-meta.json')
  if (existsSync(metaPath)) {
    const meta = JSON.parse(await readFile(metaPath, 'utf8'))
    return { ...meta, cachedAt: `cached ${meta.builtAt}` }
  }
  log(`building the ${S.records.toLocaleString('en-US')}-record store into ${cacheDir} (once; minutes) …`)
  const temp = `${cacheDir}.partial`
  await rm(temp, { recursive: true, force: true })
  await mkdir(temp, { recursive: true })
  const meta = await nodeChild(SELF, ['--child', 'build', temp, String(S.records), String(S.bigBytes)])
  await writeFile(join(temp, 'bench-meta.json'), JSON.stringify(meta, null, 2) + '\n')
  await rm(cacheDir, { recursive: true, force: true })
  await rename(temp, cacheDir)
  return { ...meta, cachedAt: 'built in this run' }
}

/** Starts `main.js run` on a data directory, waits for its control socket, measures RSS, stops it. */
async function daemonOpen(dataDir) {
  const { callDaemon } = await import(join(ROOT, 'packages/daemon/dist/index.js'))
  const main = join(ROOT, 'packages/daemon/dist/main.js')
  const socket = join(dataDir, 'control.sock')
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [main, 'run', '--data', dataDir, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'ignore', 'inherit']
    }
  )
  try {
    await waitFor(
      'the daemon to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}`)
        return await callDaemon(socket, 'status', {})
      },
      { timeoutMs: 300_000, intervalMs: 10 }
    )
    const readyMs = performance.now() - started
    const afterOpen = memoryOf(child.pid)
    // Touch the tree the way a user would: list every home and its directories.
    for (const home of await callDaemon(socket, 'fs.readdir', { path: '/' })) {
      if (!home.startsWith('u')) continue
      for (const dir of await callDaemon(socket, 'fs.readdir', { path: `/${home}` }))
        await callDaemon(socket, 'fs.readdir', { path: `/${home}/${dir}` })
    }
    const after = memoryOf(child.pid)
    return { readyMs, rssMB: afterOpen.rssMB, peakMB: after.peakMB }
  } finally {
    await stopChild(child)
  }
}

// ---------------------------------------------------------------------------------------------
// Children

async function childMain(role, args) {
  const fsmod = await import(dist('fs'))
  const logmod = await import(dist('log'))
  switch (role) {
    case 'apply':
      return applyChild(fsmod, logmod, Number(args[0]), args[1])
    case 'build':
      return buildChild(fsmod, logmod, args[0], Number(args[1]), Number(args[2]))
    case 'open':
      return openChild(fsmod, logmod, args[0], args[1])
    case 'rescan':
      return rescanChild(fsmod, logmod, args[0])
    case 'late':
      return lateChild(fsmod, logmod, args[0], Number(args[1]))
  }
  throw new Error(`unknown child role ${role}`)
}

/** Fake blob ids for the unsigned workload (the view never reads blobs while applying). */
function fakePool() {
  return Array.from({ length: BLOB_POOL_COUNT }, (_, i) => ({
    id: new Uint8Array(createHash('sha256').update(`blob ${i}`).digest()),
    length: BLOB_POOL_SIZES[i % BLOB_POOL_SIZES.length]
  }))
}

async function applyChild(fsmod, logmod, total, order) {
  const keys = [0, 1, 2, 3].map(() => logmod.KeyPair.generate().publicKey)
  const hexes = keys.map((k) => logmod.toHex(k))
  const genesis = fsmod.genesisOps(keys[0], {
    lockMode: 'available',
    uid: 0,
    gid: 0,
    timeMs: 1_700_000_000_000
  })
  const workload = new Workload({
    authors: keys,
    genesis,
    blobPool: fakePool(),
    bigFile: fakePool().slice(0, 4),
    seed: SEED
  })
  const view = new fsmod.View()
  const plain = new PlainTree()
  let replayed = 0
  view.subscribe((change) => (replayed += change.replayed))
  // lamports as the view computes them, to deliver in merged order
  const lamports = keys.map(() => [])
  const lamportOf = (r) => {
    let l = r.seq === 0 ? 0 : lamports[r.a][r.seq - 1]
    for (const e of r.vv) {
      const b = keys.indexOf(e.author)
      l = Math.max(l, lamports[b][e.seq])
    }
    lamports[r.a].push(l + 1)
    return l + 1
  }
  const S = sizes(false)
  const times = { ivy: 0, plain: 0, ivyCpu: 0, plainCpu: 0 }
  let n = 0
  let batch = []
  let flip = false
  const flush = () => {
    if (order === 'sorted')
      batch.sort((x, y) => x.lamport - y.lamport || (x.hex < y.hex ? -1 : x.hex > y.hex ? 1 : 0))
    const records = batch.map((x) => x.record)
    const timeIt = (which) => {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      if (which === 'plain') for (const r of records) plain.applyRecord(r)
      else if (order !== 'arrival-batch') for (const r of records) view.ingest(r)
      else {
        // As Filesystem does with a batch the store announces: queue them, apply them together.
        for (let i = 0; i < records.length; i += CATCH_UP_BATCH_RECORDS) {
          for (const r of records.slice(i, i + CATCH_UP_BATCH_RECORDS)) view.enqueue(r)
          view.flush()
        }
      }
      times[which] += performance.now() - t0
      const c = process.cpuUsage(c0)
      times[`${which}Cpu`] += (c.user + c.system) / 1000
    }
    // Interleave, alternating which goes first, so machine noise hits both alike.
    if (flip) (timeIt('plain'), timeIt('ivy'))
    else (timeIt('ivy'), timeIt('plain'))
    flip = !flip
    n += records.length
    batch = []
  }
  for (const r of workload.records(total)) {
    const author = keys[r.a]
    const id = new Uint8Array(createHash('sha256').update(hexes[r.a]).update(String(r.seq)).digest())
    const record = { id, body: { author, seq: r.seq, vv: r.vv, timeMs: r.timeMs, ops: r.ops } }
    batch.push({ record, lamport: lamportOf(r), hex: hexes[r.a] })
    if (batch.length === S.applyBatch) flush()
  }
  flush()
  if (view.orderViolations !== 0 || view.pendingCount !== 0)
    throw new Error('the view misapplied the workload')
  globalThis.gc?.()
  const memory = process.memoryUsage()
  return {
    records: n,
    ivyRate: n / (times.ivy / 1000),
    plainRate: n / (times.plain / 1000),
    ivyCpuRate: n / (times.ivyCpu / 1000),
    plainCpuRate: n / (times.plainCpu / 1000),
    replayedPerRecord: replayed / n,
    liveFiles: workload.liveFiles(),
    conflicts: view.state.conflicts.size,
    counts: workload.counts,
    rssMB: memory.rss / 1e6,
    heapMB: memory.heapUsed / 1e6
  }
}

async function buildChild(fsmod, logmod, dir, total, bigBytes) {
  const started = performance.now()
  const keys = [0, 1, 2, 3].map(() => logmod.KeyPair.generate())
  const publicKeys = keys.map((k) => k.publicKey)
  const genesis = fsmod.genesisOps(publicKeys[0], { lockMode: 'available', uid: 0, gid: 0 })
  const fsId = genesis.fsId
  const store = await logmod.LogStore.open({ path: join(dir, 'store'), fsId, keys: keys[0] })
  const fs = await fsmod.Filesystem.openOn(store, {
    ownsLog: true,
    acks: false,
    uid: 0,
    gid: 0,
    snapshotEveryRecords: 1e12
  })
  // Blobs: the pool the workload's blob writes reference, and the big file.
  const blobPool = []
  for (let i = 0; i < BLOB_POOL_COUNT; i++) {
    const length = BLOB_POOL_SIZES[i % BLOB_POOL_SIZES.length]
    blobPool.push({ id: await store.blobs.put(randomBytes(length)), length })
  }
  const bigFile = []
  for (let left = bigBytes; left > 0; left -= 64 * MiB) {
    const length = Math.min(left, 64 * MiB)
    bigFile.push({ id: await store.blobs.put(randomBytes(length)), length })
  }
  // A worker generates and signs the records (second core); this thread verifies and stores them
  // (LogStore.ingest: the path every foreign record takes), the view applying each as it lands.
  const worker = new Worker(SELF, {
    workerData: {
      role: 'sign',
      total,
      seeds: keys.map((k) => logmod.toHex(k.seed)),
      genesisOps: genesis.ops,
      fsId,
      blobPool,
      bigFile,
      timeMs: Date.now() - total
    }
  })
  const batches = []
  let wake
  let finished
  worker.on('message', (message) => {
    if (message.done) finished = message
    else batches.push(message.batch)
    wake?.()
  })
  const failed = new Promise((_, reject) => worker.once('error', reject))
  failed.catch(() => undefined)
  let done = 0
  let lastReport = performance.now()
  for (;;) {
    if (batches.length === 0) {
      if (finished !== undefined) break
      await Promise.race([new Promise((resolve) => (wake = resolve)), failed])
      continue
    }
    const batch = batches.shift()
    worker.postMessage('more') // credit: the worker keeps at most a few batches ahead
    await Promise.all(batch.map((bytes) => store.ingest(bytes)))
    done += batch.length
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now()
      log(
        `build: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} records, ${((performance.now() - started) / 1000).toFixed(0)} s`
      )
    }
  }
  await worker.terminate()
  if (done !== total) throw new Error(`built ${done} records, wanted ${total}`)
  const workload = finished
  const liveFiles = workload.liveFiles
  await fs.close() // writes the snapshot of the stable state, closes the store
  // A daemon data directory: author 0 is this directory's participant.
  await logmod.saveKeyPair(join(dir, 'key.json'), keys[0])
  const config = {
    version: 1,
    fsId: logmod.toHex(fsId),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [],
    mdns: false,
    lockTimeoutMs: 5000,
    logLevel: 'warn'
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  await writeFile(
    join(dir, 'bench-authors.json'),
    JSON.stringify(keys.map((k) => logmod.toHex(k.seed))) + '\n',
    { mode: 0o600 }
  )
  const { stdout } = await new Promise((resolve, reject) =>
    import('node:child_process').then(({ execFile }) =>
      execFile('du', ['-sb', join(dir, 'store')], (err, out) =>
        err ? reject(err) : resolve({ stdout: out })
      )
    )
  )
  return {
    records: total,
    liveFiles,
    counts: workload.counts,
    bigBytes,
    buildSeconds: (performance.now() - started) / 1000,
    storeBytes: Number(stdout.split(/\s/)[0]),
    builtAt: new Date().toISOString()
  }
}

async function openDataDir(logmod, dir) {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'))
  const seeds = JSON.parse(await readFile(join(dir, 'bench-authors.json'), 'utf8'))
  const keys = seeds.map((seed) => logmod.KeyPair.fromSeed(logmod.fromHex(seed)))
  return { fsId: logmod.fromHex(config.fsId), keys, storePath: join(dir, 'store') }
}

/** Opens like the daemon (LogStore, then the view from its snapshot); optionally walks and reads. */
async function openChild(fsmod, logmod, dir, mode) {
  const { fsId, keys, storePath } = await openDataDir(logmod, dir)
  const t0 = performance.now()
  const store = await logmod.LogStore.open({ path: storePath, fsId, keys: keys[0] })
  const t1 = performance.now()
  const fs = await fsmod.Filesystem.openOn(store, { ownsLog: true, uid: 0, gid: 0 })
  const t2 = performance.now()
  const view = fs.view
  const afterSnapshot = view.stableRecords + view.tentativeCount
  const rssMB = process.memoryUsage().rss / 1e6
  const result = { openMs: t2 - t0, storeMs: t1 - t0, afterSnapshot, rssMB }
  if (mode === 'explore') {
    // Walk the whole tree (readdir + getattr of every entry), then read the big file in 1 MiB reads.
    const w0 = performance.now()
    const walk = { files: 0, dirs: 0 }
    const visit = async (path) => {
      for (const entry of await fs.readdir(path)) {
        const child = path === '/' ? `/${entry.name}` : `${path}/${entry.name}`
        if (entry.attr.kind === 'dir') {
          walk.dirs++
          await visit(child)
        } else walk.files++
      }
    }
    await visit('/')
    walk.ms = performance.now() - w0
    const size = (await fs.getattr('/big.bin')).size
    const b0 = performance.now()
    // Into one buffer, as the mount reads (into the kernel's buffer): no allocation per read.
    const buffer = new Uint8Array(MiB)
    for (let offset = 0; offset < size; offset += MiB) {
      const got = await fs.readInto('/big.bin', offset, buffer)
      if (got !== Math.min(MiB, size - offset)) throw new Error('short read of big.bin')
    }
    result.walk = walk
    result.big = { bytes: size, mbPerS: size / 1e6 / ((performance.now() - b0) / 1000) }
  }
  result.peakMB = memoryOf(process.pid).peakMB
  return result // exits without closing: the copy stays as it was (no new snapshot generation)
}

/**
 * The baseline of open: what opening costs without a snapshot. Every record of every log is read
 * back and applied, in the order the logs' causal merge gives (as a full catch-up delivers them).
 */
async function rescanChild(fsmod, logmod, dir) {
  const { fsId, keys, storePath } = await openDataDir(logmod, dir)
  const t0 = performance.now()
  const store = await logmod.LogStore.open({ path: storePath, fsId, keys: keys[0] })
  const view = new fsmod.View()
  const cursors = []
  for (const author of store.authors()) {
    const iterator = store.range(author, 0)
    const cursor = { hex: logmod.toHex(author), iterator, head: (await iterator.next()).value }
    cursors.push(cursor)
  }
  const held = new Map()
  const ready = (record) => record.body.vv.every((e) => (held.get(logmod.toHex(e.author)) ?? -1) >= e.seq)
  let applied = 0
  while (cursors.some((c) => c.head !== undefined)) {
    let progressed = false
    for (const cursor of cursors) {
      while (cursor.head !== undefined && ready(cursor.head)) {
        view.ingest(cursor.head)
        held.set(cursor.hex, cursor.head.body.seq)
        applied++
        progressed = true
        cursor.head = (await cursor.iterator.next()).value
      }
    }
    if (!progressed) throw new Error('rescan found no record whose dependencies are held')
  }
  const t1 = performance.now()
  return {
    openMs: t1 - t0,
    applied,
    rssMB: process.memoryUsage().rss / 1e6,
    peakMB: memoryOf(process.pid).peakMB
  }
}

/** Late record: see the header. Times view work only (from the store's announcement to the view's change event). */
async function lateChild(fsmod, logmod, dir, rounds) {
  const { fsId, keys, storePath } = await openDataDir(logmod, dir)
  const hexes = keys.map((k) => logmod.toHex(k.publicKey))
  const store = await logmod.LogStore.open({ path: storePath, fsId, keys: keys[0] })
  let announcedAt = 0
  store.onRecord(() => (announcedAt = performance.now())) // registered before the view's listener
  const fs = await fsmod.Filesystem.openOn(store, { ownsLog: true, acks: false, uid: 0, gid: 0 })
  const view = fs.view
  const changes = []
  fs.subscribe((change) =>
    changes.push({ ms: performance.now() - announcedAt, replayed: change.replayed, applied: change.applied })
  )
  // One file per author to write to.
  const fileOf = []
  for (let a = 0; a < 4; a++) {
    const dirs = (await fs.readdir(`/u${a}`)).filter((e) => e.attr.kind === 'dir')
    let found
    for (const d of dirs) {
      const files = (await fs.readdir(`/u${a}/${d.name}`)).filter((e) => e.attr.kind === 'file')
      if (files.length > 0) {
        found = logmod.fromHex(await fs.handle(`/u${a}/${d.name}/${files[0].name}`))
        break
      }
    }
    if (found === undefined) throw new Error(`no file of author ${a}`)
    fileOf.push(found)
  }
  const next = keys.map((k) => ({ seq: store.length(k.publicKey), prev: store.headId(k.publicKey) ?? null }))
  const full = hexes.map((hex) => new Map(view.clocks.coverage(hex) ?? []))
  const heldNow = () => new Map(hexes.map((hex, a) => [hex, next[a].seq - 1]))
  const build = (a, upto) => {
    const vv = []
    const others = hexes
      .map((hex, b) => ({ hex, b }))
      .filter(({ b }) => b !== a)
      .sort((x, y) => (x.hex < y.hex ? -1 : 1))
    for (const { hex, b } of others) {
      const seq = upto.get(hex) ?? -1
      if (seq > (full[a].get(hex) ?? -1)) {
        vv.push({ author: keys[b].publicKey, seq })
        full[a].set(hex, seq)
      }
    }
    const data = randomBytes(100)
    const ino = fileOf[a]
    const signed = logmod.signRecord(keys[a], {
      version: logmod.FORMAT_VERSION,
      fsId,
      author: keys[a].publicKey,
      seq: next[a].seq,
      prev: next[a].prev,
      vv,
      timeMs: Date.now(),
      ops: [
        { type: 'write', ino, offset: 0, length: data.length, inline: new Uint8Array(data) },
        { type: 'setattrs', ino, size: data.length, mtimeMs: Date.now() }
      ]
    })
    next[a] = { seq: next[a].seq + 1, prev: signed.id }
    return signed.bytes
  }
  const lateMs = []
  const inOrderMs = []
  const replayed = []
  for (let round = 0; round < rounds; round++) {
    const before = heldNow()
    const suffix = []
    for (let i = 0; i < 1000; i++) suffix.push(build(i % 3, heldNow()))
    changes.length = 0
    await Promise.all(suffix.map((bytes) => store.ingest(bytes)))
    // The filesystem applies each batch the store announces at once: one change per batch.
    const applied = changes.reduce((sum, c) => sum + c.applied, 0)
    if (applied !== 1000) throw new Error(`expected 1000 records applied, saw ${applied}`)
    inOrderMs.push(changes.reduce((sum, c) => sum + c.ms, 0))
    const late = build(3, before)
    changes.length = 0
    await store.ingest(late)
    lateMs.push(changes[0].ms)
    replayed.push(changes[0].replayed)
  }
  if (view.orderViolations !== 0) throw new Error('order violation')
  await fs.close()
  return { lateMs, inOrderMs, replayed, tentative: view.tentativeCount, peakMB: memoryOf(process.pid).peakMB }
}

/** The build's signing thread: generates the workload and signs it, in batches, with credit-based flow control. */
async function signWorker(data) {
  const logmod = await import(dist('log'))
  const keys = data.seeds.map((seed) => logmod.KeyPair.fromSeed(logmod.fromHex(seed)))
  const publicKeys = keys.map((k) => k.publicKey)
  const workload = new Workload({
    authors: publicKeys,
    genesis: { ops: data.genesisOps },
    blobPool: data.blobPool,
    bigFile: data.bigFile,
    seed: SEED,
    timeMs: data.timeMs
  })
  let credit = 3
  let wake
  parentPort.on('message', () => {
    credit++
    wake?.()
  })
  const prev = keys.map(() => null)
  let batch = []
  const send = async () => {
    while (credit === 0) await new Promise((resolve) => (wake = resolve))
    credit--
    parentPort.postMessage({ batch })
    batch = []
  }
  for (const r of workload.records(data.total)) {
    const signed = logmod.signRecord(keys[r.a], {
      version: logmod.FORMAT_VERSION,
      fsId: data.fsId,
      author: publicKeys[r.a],
      seq: r.seq,
      prev: prev[r.a],
      vv: r.vv,
      timeMs: r.timeMs,
      ops: r.ops
    })
    prev[r.a] = signed.id
    batch.push(signed.bytes)
    if (batch.length === 2048) await send()
  }
  if (batch.length > 0) await send()
  parentPort.postMessage({ done: true, liveFiles: workload.liveFiles(), counts: workload.counts })
}

if (!isMainThread && workerData?.role === 'sign') {
  signWorker(workerData).catch((err) => {
    throw err
  })
}

if (isMainThread && process.argv[1] === SELF && process.argv[2] === '--child') {
  childMain(process.argv[3], process.argv.slice(4)).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`)
      process.exit(1)
    }
  )
}
