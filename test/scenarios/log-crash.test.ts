// Crash durability of packages/log: a real child process appends records and prints each
// acknowledged seq; it is killed with SIGKILL mid-stream; every acknowledged record must be on
// disk after reopening, decode, verify, and chain by prev, and every blob a record references
// must read back whole (hash-verified).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { KeyPair, LogStore, bytesEqual, decodeRecord, fromHex, genesisFsId, toHex } from '@ivyfs/log'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WRITER = fileURLToPath(new URL('../helpers/log-crash-writer.mjs', import.meta.url))
const ROUNDS = 4
const ACK_TIMEOUT_MS = 30_000

let dir = ''

beforeAll(async () => {
  // The child runs the built package (dist/), so build it first.
  execFileSync('npx', ['tsc', '-b', 'packages/log'], { cwd: ROOT, stdio: 'pipe' })
  dir = await mkdtemp(join(tmpdir(), 'ivyfs-log-crash-'))
}, 120_000)

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

/** What the writer printed: seqs acked (durable appends), written (lazy) and made durable. */
interface Printed {
  ack: number[]
  written: number[]
  durable: number[]
}

/** Resolves once `count` acks were printed, with everything printed; rejects on exit or timeout. */
async function waitForLines(child: ChildProcess, count: number): Promise<Printed> {
  return new Promise((resolve, reject) => {
    const printed: Printed = { ack: [], written: [], durable: [] }
    const acked = printed.ack
    let partial = ''
    let stderr = ''
    const timer = setTimeout(
      () => finish(new Error(`only ${acked.length} acks within ${ACK_TIMEOUT_MS} ms`)),
      ACK_TIMEOUT_MS
    )
    const finish = (err?: Error): void => {
      clearTimeout(timer)
      child.stdout?.removeAllListeners('data')
      child.removeAllListeners('exit')
      if (err === undefined) resolve(printed)
      else reject(err)
    }
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('exit', (code) => finish(new Error(`writer exited early (${code}): ${stderr}`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        const match = /^(ack|written|durable) (\d+)$/.exec(line)
        if (match === null) return finish(new Error(`unexpected output: ${line}`))
        printed[match[1] as keyof Printed].push(Number(match[2]))
      }
      if (acked.length >= count) finish()
    })
  })
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  expect(child.pid).toBeDefined()
  process.kill(child.pid!, 'SIGKILL')
  await exited
}

/**
 * After a kill: each pack file becomes its image of durable bytes (kept by the writer's
 * test/helpers/power-loss-packs.mjs); a pack without one was never durable.
 */
function restoreImages(packs: string): void {
  const images = join(packs, '..', 'power-loss-images')
  for (const name of readdirSync(packs)) {
    const saved = join(images, name)
    if (existsSync(saved)) copyFileSync(saved, join(packs, name))
    else rmSync(join(packs, name))
  }
}

/** Reads the whole log back: decoded, verified, chained by prev, every blob whole. */
async function verifyLog(store: LogStore, keys: KeyPair): Promise<{ length: number; blobs: number }> {
  let previous: Uint8Array | null = null
  let seq = 0
  let blobs = 0
  for await (const record of store.range(keys.publicKey, 0)) {
    for (const op of record.body.ops) {
      if (op.type !== 'write' || op.blob === undefined) continue
      expect((await store.blobs.get(op.blob, op.length)).byteLength).toBe(op.length)
      blobs++
    }
    const verified = decodeRecord(record.bytes, { verify: true })
    expect(verified.body.seq).toBe(seq)
    expect(verified.body.prev === null ? null : toHex(verified.body.prev)).toBe(
      previous === null ? null : toHex(previous)
    )
    expect(bytesEqual(verified.id, record.id)).toBe(true)
    previous = verified.id
    seq++
  }
  expect(seq).toBe(store.length(keys.publicKey))
  return { length: seq, blobs }
}

function writerInit(
  name: string,
  seed: string
): {
  init: { path: string; seedHex: string; timeMs: number; nonceHex: string }
  keys: KeyPair
  fsId: Uint8Array
} {
  const init = {
    path: join(dir, name),
    seedHex: seed.repeat(32),
    timeMs: 1_700_000_000_000,
    nonceHex: '01'.repeat(16)
  }
  const keys = KeyPair.fromSeed(fromHex(init.seedHex))
  const fsId = genesisFsId({
    creator: keys.publicKey,
    timeMs: init.timeMs,
    nonce: fromHex(init.nonceHex),
    lockMode: 'strict'
  })
  return { init, keys, fsId }
}

test('every acknowledged append survives SIGKILL of the writer, round after round', async () => {
  // Goal: an append that resolved is durable, whatever instant the process dies at.
  const { init, keys, fsId } = writerInit('db', 'c7')
  let lengthBefore = 0
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(process.execPath, [WRITER, JSON.stringify({ ...init, lazy: round % 2 === 1 })], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const printed = await waitForLines(child, 40 + round * 23)
    await kill(child)

    const store = await LogStore.open({ path: init.path, fsId, keys })
    try {
      const { length, blobs } = await verifyLog(store, keys)
      // A kill loses nothing the kernel holds: lazy appends that resolved survive it too.
      expect(length).toBeGreaterThan(Math.max(...printed.ack, ...printed.written))
      expect(length).toBeGreaterThan(lengthBefore)
      expect(blobs).toBeGreaterThan(0)
      for (const ackedSeq of printed.ack)
        expect((await store.get(keys.publicKey, ackedSeq))?.body.seq).toBe(ackedSeq)
      lengthBefore = length
    } finally {
      await store.close()
    }
  }
})

test('a power loss keeps every record that was durable or sent, and leaves no damage', async () => {
  // Goal: the group commit's contract. The disk keeps only what was flushed (images of the
  // packs as of each fdatasync); every durable append and every record the durable view took
  // (all a peer could have been sent) survives, so the log the writer continues never forks.
  const { init, keys, fsId } = writerInit('power', 'd8')
  let lost = 0
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(
      process.execPath,
      [WRITER, JSON.stringify({ ...init, lazy: true, powerLoss: true })],
      {
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    const printed = await waitForLines(child, 30 + round * 17)
    await kill(child)
    restoreImages(join(init.path, 'packs'))

    const store = await LogStore.open({ path: init.path, fsId, keys })
    try {
      const { length } = await verifyLog(store, keys)
      expect(length).toBeGreaterThan(Math.max(...printed.ack, ...printed.durable))
      lost += Math.max(0, Math.max(...printed.written, ...printed.ack) + 1 - length)
    } finally {
      await store.close()
    }
  }
  console.log(`power loss: ${ROUNDS} rounds, ${lost} written-but-unflushed records lost in all`)
})
