// `npm run bench -- log`: durable appends (one op per record, each awaited) next to hypercore's
// single awaited 1 KiB appends; foreign-record verify-and-store rate; blob put/get throughput.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { atLeastRatio, median, row } from './lib/table.mjs'

const APPENDS = 5000
const INGESTS = 20000
const BLOB_BYTES = 64 * 1024 * 1024
const RUNS = 3

const require = createRequire(import.meta.url)

export async function run({ root }) {
  const log = await import(join(root, 'packages/log/dist/index.js'))
  const Hypercore = require('hypercore')
  const payload = randomBytes(1024)
  const ino = randomBytes(16)

  const appendOne = async () =>
    withDir(async (dir) => {
      const store = await log.LogStore.open({
        path: dir,
        fsId: randomBytes(32),
        keys: log.KeyPair.generate()
      })
      const start = performance.now()
      for (let i = 0; i < APPENDS; i++) {
        await store.append([{ type: 'write', ino, offset: i * 1024, length: 1024, inline: payload }])
      }
      const seconds = (performance.now() - start) / 1000
      await store.close()
      return APPENDS / seconds
    })
  const hypercoreOne = async () =>
    withDir(async (dir) => {
      const core = new Hypercore(dir)
      await core.ready()
      const start = performance.now()
      for (let i = 0; i < APPENDS; i++) await core.append(payload)
      const seconds = (performance.now() - start) / 1000
      await core.close()
      return APPENDS / seconds
    })

  // Interleave the two so machine noise hits both alike.
  const ours = []
  const theirs = []
  for (let i = 0; i < RUNS; i++) {
    ours.push(await appendOne())
    theirs.push(await hypercoreOne())
  }
  const appendRate = med(ours)
  const hypercoreRate = med(theirs)

  const ingestRate = await median(RUNS, () => ingestBench(log, ino, payload))
  const [putRate, getRate] = await blobBench(log)

  return [
    row({
      what: 'append, 1 op (1 KiB) per record, awaited, durable',
      value: appendRate,
      unit: 'records/s',
      baseline: 'hypercore 1 KiB append',
      baselineValue: hypercoreRate,
      target: atLeastRatio(2),
      note: 'ivyfs fsyncs every record; hypercore as it ships'
    }),
    row({ what: 'ingest foreign records (verify + store)', value: ingestRate, unit: 'records/s' }),
    row({ what: 'blob put, 64 MiB', value: putRate, unit: 'MB/s' }),
    row({ what: 'blob get, 64 MiB (hash-verified)', value: getRate, unit: 'MB/s' })
  ]
}

async function ingestBench(log, ino, payload) {
  return withDir(async (dir) => {
    const fsId = randomBytes(32)
    const source = await log.LogStore.open({ path: join(dir, 'a'), fsId, keys: log.KeyPair.generate() })
    const batch = []
    for (let i = 0; i < INGESTS; i++) {
      batch.push(source.append([{ type: 'write', ino, offset: i * 1024, length: 1024, inline: payload }]))
      if (batch.length === 500) await Promise.all(batch.splice(0))
    }
    await Promise.all(batch)
    const records = []
    for await (const record of source.range(source.keys.publicKey, 0)) records.push(record.bytes)
    await source.close()
    const sink = await log.LogStore.open({ path: join(dir, 'b'), fsId, keys: log.KeyPair.generate() })
    const start = performance.now()
    const pending = []
    for (const bytes of records) {
      pending.push(sink.ingest(bytes))
      if (pending.length === 256) await Promise.all(pending.splice(0))
    }
    await Promise.all(pending)
    const seconds = (performance.now() - start) / 1000
    await sink.close()
    return INGESTS / seconds
  })
}

async function blobBench(log) {
  return withDir(async (dir) => {
    const store = await log.LogStore.open({ path: dir, fsId: randomBytes(32), keys: log.KeyPair.generate() })
    const data = randomBytes(BLOB_BYTES)
    let start = performance.now()
    const id = await store.blobs.put(data)
    const put = BLOB_BYTES / 1e6 / ((performance.now() - start) / 1000)
    start = performance.now()
    const back = await store.blobs.get(id, BLOB_BYTES)
    const get = BLOB_BYTES / 1e6 / ((performance.now() - start) / 1000)
    if (back.length !== BLOB_BYTES) throw new Error('blob read back short')
    await store.close()
    return [put, get]
  })
}

function med(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function withDir(fn) {
  const dir = await mkdtemp(join(tmpdir(), 'ivy-bench-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
