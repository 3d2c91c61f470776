// `npm run bench -- net`: replication between two real daemon processes on loopback.
//
// - catch-up: daemon A (main.js run) holds 100 MiB of files of mixed sizes (written through its
//   control socket); daemon B, a member with an empty store, starts and catches up. Timed from
//   B's replication session opening (its log) to B holding the last file; RSS of both daemons.
//   Side by side in the same run, repetitions interleaved:
//   (a) raw libp2p: the same bytes over one Noise+Yamux stream between two processes with the
//       ivyfs node's own stack and settings (createNode of packages/net);
//   (b) hyperdrive 13 (hypercore 11.37.1, corestore 7): a writer process holding the same files,
//       a fresh reader process that connects over TCP and downloads the drive (db and blobs cores).
// - latency: a write committed on A (its control-socket fs.write returned) until B's fs.read
//   returns the new bytes; 1,000 writes, next to hyperdrive's live replication of the same
//   (writer's put returned → the reader, downloading eagerly, reads the new value).
// `--quick`: 10 MiB, 100 writes, 2 repetitions.
import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { atLeastRatio, atMost, row } from './lib/table.mjs'
import {
  log,
  median,
  memoryOf,
  nodeChild,
  now,
  quick,
  resetPeak,
  rssSampler,
  sleep,
  stopChild,
  waitFor
} from './lib/proc.mjs'
import { daemonPaths, freePort, initDaemon, joinDaemon, spawnDaemon, waitForControl } from './lib/daemons.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '..')
const SELF = fileURLToPath(import.meta.url)
const KiB = 1024
const MiB = 1024 * 1024

/** The file set: [size, count]; 100 MiB in all (1,567 files), or a tenth of it with --quick. */
const FILE_SET = [
  [1 * KiB, 1024],
  [16 * KiB, 448],
  [256 * KiB, 64],
  [1 * MiB, 28],
  [16 * MiB, 3]
]
const QUICK_SET = [
  [1 * KiB, 512],
  [16 * KiB, 64],
  [256 * KiB, 8],
  [1 * MiB, 3],
  [4 * MiB, 1]
]

const sizes = () =>
  quick
    ? { set: QUICK_SET, reps: 2, latencyWrites: 100, latencyBlock: 50 }
    : { set: FILE_SET, reps: 3, latencyWrites: 1000, latencyBlock: 100 }

export async function run() {
  const S = sizes()
  const { ControlClient } = await import(join(ROOT, 'packages/daemon/dist/index.js'))
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-net-'))
  const children = new Set()
  const clients = []
  const track = (child) => (children.add(child), child.once('exit', () => children.delete(child)), child)
  try {
    // The files (same bytes for every contender).
    const filesDir = join(work, 'files')
    await mkdir(filesDir)
    const files = []
    for (const [size, count] of S.set) {
      for (let i = 0; i < count; i++) {
        const name = `f${String(files.length).padStart(5, '0')}-${size}`
        await writeFile(join(filesDir, name), randomBytes(size))
        files.push({ name, size })
      }
    }
    const totalBytes = files.reduce((sum, f) => sum + f.size, 0)
    log(`net: ${files.length} files, ${(totalBytes / MiB).toFixed(0)} MiB`)

    // ivyfs: A (init, run), B (join while A is empty).
    const A = daemonPaths(join(work, 'a'), await freePort(), { logFile: join(work, 'a-daemon.log') })
    const B = daemonPaths(join(work, 'b'), await freePort(), { logFile: join(work, 'b-daemon.log') })
    await initDaemon(ROOT, A)
    let a = track(startDaemon(A, []))
    await waitForControl(ROOT, A, a)
    let clientA = await ControlClient.connect(A.socket)
    clients.push(clientA)
    const { ticket } = await clientA.call('invite')
    await joinDaemon(ROOT, B, ticket)
    // B as it is right after joining: every repetition starts from this (a member that was away
    // while A wrote everything).
    const pristineB = `${B.dir}-joined`
    await cp(B.dir, pristineB, { recursive: true })
    log('net: writing the files into daemon A …')
    const w0 = performance.now()
    for (const file of files) {
      const data = await readFile(join(filesDir, file.name))
      await clientA.call(
        'fs.write',
        { path: `/${file.name}`, dataBase64: data.toString('base64') },
        { timeoutMs: 120_000 }
      )
    }
    const afterWrites = memoryOf(a.pid)
    log(
      `net: written in ${((performance.now() - w0) / 1000).toFixed(1)} s; A RSS ${afterWrites?.rssMB.toFixed(0)} MB`
    )
    const last = files[files.length - 1]
    // Restart A, so that its RSS during the catch-ups is what serving them costs (not what is left
    // over from taking 100 MiB in as base64 JSON on the control socket).
    clientA.close()
    await stopChild(a)
    a = track(startDaemon(A, []))
    await waitForControl(ROOT, A, a)
    clientA = await ControlClient.connect(A.socket)
    clients.push(clientA)

    // hyperdrive writer (stays up for the whole run).
    const hyperWriter = track(spawnChild(['hyper-writer', join(work, 'hw'), filesDir]))
    const hw = await nextMessage(hyperWriter, (m) => m.ready)
    log(`net: hyperdrive writer ready (${(hw.putMs / 1000).toFixed(1)} s to put the files)`)

    // raw libp2p receiver (stays up).
    const rawReceiver = track(spawnChild(['raw-receiver', String(totalBytes)]))
    const rr = await nextMessage(rawReceiver, (m) => m.address !== undefined)

    const results = { raw: [], hyper: [], ivy: [] }
    const contenders = {
      raw: async () => {
        const r = await nodeChild(SELF, ['--child', 'raw-sender', rr.address, filesDir])
        return { mbPerS: totalBytes / 1e6 / (r.ms / 1000), ms: r.ms }
      },
      hyper: async () => {
        const dir = join(work, `hr-${results.hyper.length}`)
        const r = await nodeChild(SELF, [
          '--child',
          'hyper-reader',
          dir,
          hw.key,
          String(hw.port),
          String(totalBytes)
        ])
        await rm(dir, { recursive: true, force: true })
        return {
          mbPerS: totalBytes / 1e6 / (r.ms / 1000),
          ms: r.ms,
          readerPeakMB: r.peakMB,
          writerRssMB: memoryOf(hyperWriter.pid)?.rssMB
        }
      },
      ivy: async () => {
        await rm(B.dir, { recursive: true, force: true })
        await cp(pristineB, B.dir, { recursive: true })
        const peakReset = resetPeak(a.pid)
        const samplerA = rssSampler(a.pid)
        const spawned = now()
        const b = track(startDaemon(B, [A.address]))
        const samplerB = rssSampler(b.pid)
        await waitForControl(ROOT, B, b)
        const clientB = await ControlClient.connect(B.socket)
        const done = await waitFor(
          'B to catch up',
          async () => {
            const attr = await clientB.call('fs.getattr', { path: `/${last.name}` })
            return attr.size === last.size ? now() : undefined
          },
          { timeoutMs: Number(process.env.IVY_BENCH_CATCHUP_TIMEOUT_MS ?? 600_000), intervalMs: 20 }
        )
        const bMem = memoryOf(b.pid)
        const aMem = memoryOf(a.pid)
        const peakA = Math.max(samplerA.stop(), peakReset ? aMem.peakMB : 0)
        const peakB = Math.max(samplerB.stop(), bMem.peakMB)
        const [hashA, hashB] = await Promise.all([clientA.call('fs.treeHash'), clientB.call('fs.treeHash')])
        if (hashA.treeHash !== hashB.treeHash) throw new Error('B caught up to a different tree')
        clientB.close()
        const { first: session, count: sessions } = await sessionStarts(B.logFile)
        if (session === undefined) throw new Error(`no replication session in B's log`)
        const ms = done - session
        return {
          mbPerS: totalBytes / 1e6 / (ms / 1000),
          ms,
          fromSpawnMs: done - spawned,
          peakA,
          peakB,
          sessions,
          b
        }
      }
    }
    const order = ['raw', 'hyper', 'ivy']
    let b
    for (let rep = 0; rep < S.reps; rep++) {
      for (let k = 0; k < order.length; k++) {
        const name = order[(k + rep) % order.length]
        if (name === 'ivy' && b !== undefined) {
          await stopChild(b)
          b = undefined
        }
        const result = await contenders[name]()
        if (name === 'ivy') b = result.b
        results[name].push(result)
        log(
          `net rep ${rep + 1}: ${name} ${result.mbPerS.toFixed(1)} MB/s (${(result.ms / 1000).toFixed(2)} s)` +
            (name === 'ivy'
              ? `, RSS peak A ${result.peakA.toFixed(0)} MB, B ${result.peakB.toFixed(0)} MB, ${result.sessions} replication session(s)`
              : '')
        )
      }
    }
    const med = (name, key = 'mbPerS') => median(results[name].map((r) => r[key]))

    // Latency: B (running, caught up) and a live hyperdrive reader, blocks interleaved.
    if (b === undefined) {
      b = track(startDaemon(B, [A.address]))
      await waitForControl(ROOT, B, b)
    }
    const clientB = await ControlClient.connect(B.socket)
    clients.push(clientB)
    await clientA.call('fs.write', {
      path: '/latency',
      dataBase64: Buffer.from('start---').toString('base64')
    })
    await waitFor(
      'B to see /latency',
      async () => (await clientB.call('fs.getattr', { path: '/latency' })).size === 8,
      { timeoutMs: 30_000 }
    )
    const liveReader = track(spawnChild(['hyper-live', join(work, 'hl'), hw.key, String(hw.port)]))
    await nextMessage(liveReader, (m) => m.ready)
    const ivyLatency = []
    const hyperLatency = []
    let counter = 0
    const ivyOne = async () => {
      const value = String(++counter).padStart(8, '0')
      const dataBase64 = Buffer.from(value).toString('base64')
      await clientA.call('fs.write', { path: '/latency', dataBase64 })
      const written = now()
      for (;;) {
        const { dataBase64: seen } = await clientB.call('fs.read', { path: '/latency' })
        if (seen === dataBase64) break
        await sleep(1)
      }
      ivyLatency.push(now() - written)
    }
    const hyperOne = async () => {
      const value = String(++counter).padStart(8, '0')
      const seen = nextMessage(liveReader, (m) => m.value === value, 30_000)
      hyperWriter.send({ put: value })
      const { t: written } = await nextMessage(hyperWriter, (m) => m.put === value, 30_000)
      const { t: visible } = await seen
      hyperLatency.push(visible - written)
    }
    for (let done = 0; done < S.latencyWrites; done += S.latencyBlock) {
      for (let i = 0; i < S.latencyBlock; i++) await ivyOne()
      for (let i = 0; i < S.latencyBlock; i++) await hyperOne()
    }
    const pct = (values, p) => {
      const sorted = [...values].sort((x, y) => x - y)
      return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
    }

    const ivy = results.ivy
    const rssNote = `RSS peak during catch-up: A ${Math.max(...ivy.map((r) => r.peakA)).toFixed(0)} MB, B ${Math.max(...ivy.map((r) => r.peakB)).toFixed(0)} MB`
    const common = `median of ${S.reps}, interleaved; ${files.length} files, ${(totalBytes / MiB).toFixed(0)} MiB`
    return [
      row({
        what: `catch-up replication, ${(totalBytes / MiB).toFixed(0)} MiB of mixed files, 2 daemons, loopback`,
        value: med('ivy'),
        unit: 'MB/s',
        baseline: 'hyperdrive 13 replication',
        baselineValue: med('hyper'),
        target: atLeastRatio(1.1),
        note: `${common}; from B's first session start (process start to done: ${(med('ivy', 'fromSpawnMs') / 1000).toFixed(2)} s); replication sessions per catch-up: ${ivy.map((r) => r.sessions).join(', ')} (more than 1: the stream was reset and the session restarted); ${rssNote}`
      }),
      row({
        what: 'catch-up replication vs the transport',
        value: med('ivy'),
        unit: 'MB/s',
        baseline: 'raw libp2p Noise+Yamux stream',
        baselineValue: med('raw'),
        target: atLeastRatio(0.7),
        note: `same libp2p stack and yamux window as the daemon; hyperdrive reader peak RSS ${median(results.hyper.map((r) => r.readerPeakMB)).toFixed(0)} MB`
      }),
      row({
        what: 'daemon RSS during the catch-up (max of A and B)',
        value: Math.max(...ivy.map((r) => Math.max(r.peakA, r.peakB))),
        unit: 'MB',
        target: atMost(300, 'MB'),
        note: `${rssNote}; A restarted after taking the files in (its RSS then: ${afterWrites?.rssMB.toFixed(0)} MB)`
      }),
      row({
        what: `write on A → visible on B, p50 (${ivyLatency.length} writes)`,
        value: pct(ivyLatency, 50),
        unit: 'ms',
        baseline: 'hyperdrive live replication',
        baselineValue: pct(hyperLatency, 50),
        lowerIsBetter: true,
        target: atMost(30, 'ms'),
        note: `A's fs.write returned (durable) → B's fs.read returns the new bytes (polled every ~1 ms); blocks of ${S.latencyBlock} interleaved with hyperdrive`
      }),
      row({
        what: `write on A → visible on B, p99`,
        value: pct(ivyLatency, 99),
        unit: 'ms',
        baseline: 'hyperdrive live replication',
        baselineValue: pct(hyperLatency, 99),
        lowerIsBetter: true,
        target: atMost(150, 'ms'),
        note: `max ${Math.max(...ivyLatency).toFixed(0)} ms (hyperdrive max ${Math.max(...hyperLatency).toFixed(0)} ms)`
      })
    ]
  } finally {
    for (const client of clients) client.close()
    await Promise.all([...children].map((child) => stopChild(child)))
    if (process.env.IVY_BENCH_KEEP === '1') log(`kept ${work}`)
    else await rm(work, { recursive: true, force: true })
  }
}

/** A daemon with a JSON log at info level (the catch-up is timed from its session-start line). */
const startDaemon = (paths, bootstrap) =>
  spawnDaemon(ROOT, paths, { bootstrap, logFormat: 'json', logLevel: 'info', stdout: false })

/** Time (ms since the epoch) of the first "replicating with peer" line in a daemon's JSON log, and how many there are. */
async function sessionStarts(logFile) {
  const text = await readFile(logFile, 'utf8')
  const times = text
    .split('\n')
    .filter((line) => line.includes('replicating with peer'))
    .map((line) => Date.parse(JSON.parse(line).time))
  return { first: times[0], count: times.length }
}

function spawnChild(args) {
  return spawn(process.execPath, [SELF, '--child', ...args], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
}

/** The next IPC message of `child` that satisfies `match`. */
function nextMessage(child, match, timeoutMs = 600_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (cleanup(), reject(new Error('no message from child in time'))), timeoutMs)
    const onMessage = (message) => {
      if (message.error !== undefined) return (cleanup(), reject(new Error(message.error)))
      if (match(message)) (cleanup(), resolve(message))
    }
    const onExit = (code) => (cleanup(), reject(new Error(`child exited with ${code}`)))
    const cleanup = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

// ---------------------------------------------------------------------------------------------
// Children

const require = createRequire(join(here, 'package.json'))
const PROTOCOL = '/ivyfs-bench/raw/1'

async function rawNode() {
  await import(join(ROOT, 'packages/net/dist/polyfill.js'))
  const net = await import(join(ROOT, 'packages/net/dist/index.js'))
  const logmod = await import(join(ROOT, 'packages/log/dist/index.js'))
  const node = await net.createNode({
    keys: logmod.KeyPair.generate(),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false
  })
  await node.start()
  return node
}

async function rawReceiver(total) {
  const node = await rawNode()
  await node.handle(PROTOCOL, async (stream) => {
    let received = 0
    let acked = false
    for await (const chunk of stream) {
      received += chunk.byteLength
      if (!acked && received >= total) {
        stream.send(new Uint8Array([1]))
        acked = true
      }
    }
    await stream.close().catch(() => undefined)
  })
  process.send({ address: node.getMultiaddrs()[0].toString() })
  await new Promise(() => {})
}

async function rawSender(address, filesDir) {
  const { multiaddr } = await import('@multiformats/multiaddr')
  const node = await rawNode()
  const names = (await readdir(filesDir)).sort()
  const data = await Promise.all(names.map((name) => readFile(join(filesDir, name))))
  const connection = await node.dial(multiaddr(address))
  const stream = await connection.newStream(PROTOCOL)
  const t0 = performance.now()
  const acked = (async () => {
    for await (const chunk of stream) if (chunk.byteLength > 0) return
  })()
  for (const file of data) {
    for (let at = 0; at < file.length; at += 64 * KiB) {
      if (!stream.send(file.subarray(at, at + 64 * KiB))) await stream.onDrain()
    }
  }
  await acked
  const ms = performance.now() - t0
  await node.stop()
  return { ms }
}

async function hyperWriter(dir, filesDir) {
  const Corestore = require('corestore')
  const Hyperdrive = require('hyperdrive')
  const store = new Corestore(dir)
  const drive = new Hyperdrive(store)
  await drive.ready()
  const t0 = performance.now()
  for (const name of (await readdir(filesDir)).sort())
    await drive.put(`/${name}`, await readFile(join(filesDir, name)))
  const putMs = performance.now() - t0
  const server = createServer((socket) => {
    const stream = store.replicate(false)
    socket.pipe(stream).pipe(socket)
    socket.on('error', () => undefined)
    stream.on('error', () => undefined)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.on('message', async (message) => {
    if (message.put !== undefined) {
      await drive.put('/latency', Buffer.from(message.put))
      process.send({ put: message.put, t: now() })
    }
  })
  process.send({ ready: true, key: drive.key.toString('hex'), port: server.address().port, putMs })
  await new Promise(() => {})
}

async function hyperOpen(dir, keyHex, port) {
  const Corestore = require('corestore')
  const Hyperdrive = require('hyperdrive')
  const store = new Corestore(dir)
  const drive = new Hyperdrive(store, Buffer.from(keyHex, 'hex'))
  await drive.ready()
  const t0 = performance.now()
  const socket = connect(port, '127.0.0.1')
  const stream = store.replicate(true)
  socket.pipe(stream).pipe(socket)
  socket.on('error', () => undefined)
  stream.on('error', () => undefined)
  return { store, drive, t0 }
}

/** Catch-up: connect, learn the drive's length, download every block of its db and blobs cores. */
async function hyperReader(dir, keyHex, port, total) {
  const { drive, t0 } = await hyperOpen(dir, keyHex, port)
  await drive.update({ wait: true })
  await drive.db.core.download({ start: 0, end: drive.db.core.length }).done()
  const blobs = await drive.getBlobs()
  await blobs.core.update({ wait: true })
  await blobs.core.download({ start: 0, end: blobs.core.length }).done()
  const ms = performance.now() - t0
  if (!(await drive.has('/'))) throw new Error('hyperdrive reader is missing blobs')
  if (blobs.core.byteLength < Number(total))
    throw new Error(`hyperdrive reader holds ${blobs.core.byteLength} bytes`)
  const peakMB = memoryOf(process.pid).peakMB
  await drive.close()
  return { ms, peakMB }
}

/**
 * Live reader for the latency test: downloads every new block of both cores eagerly (the fastest
 * of the ways tried: bee watch ≈ 130 ms, append event + get ≈ 95 ms, eager download ≈ 50 ms p50
 * here) and reports every new value of /latency with the time it was read.
 */
async function hyperLive(dir, keyHex, port) {
  const { drive } = await hyperOpen(dir, keyHex, port)
  await drive.update({ wait: true })
  drive.db.core.download({ start: 0, end: -1 })
  const blobs = await drive.getBlobs()
  blobs.core.download({ start: 0, end: -1 })
  let last
  let checking = Promise.resolve()
  const check = async () => {
    const value = await drive.get('/latency', { wait: true }).catch(() => null)
    if (value === null) return
    const text = value.toString()
    if (text !== last) {
      last = text
      process.send({ value: text, t: now() })
    }
  }
  drive.db.core.on('append', () => (checking = checking.then(check)))
  process.send({ ready: true })
  await new Promise(() => {})
}

async function childMain(role, args) {
  switch (role) {
    case 'raw-receiver':
      return rawReceiver(Number(args[0]))
    case 'raw-sender':
      return rawSender(args[0], args[1])
    case 'hyper-writer':
      return hyperWriter(args[0], args[1])
    case 'hyper-reader':
      return hyperReader(args[0], args[1], Number(args[2]), args[3])
    case 'hyper-live':
      return hyperLive(args[0], args[1], Number(args[2]))
  }
  throw new Error(`unknown child role ${role}`)
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  childMain(process.argv[3], process.argv.slice(4)).then(
    (result) => {
      if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`)
      process.send?.({ error: String(err.message ?? err) })
      process.exit(1)
    }
  )
}
