// Crash durability of packages/log: a real child process appends records and prints each
// acknowledged seq; it is killed with SIGKILL mid-stream; every acknowledged record must be on
// disk after reopening, decode, verify, and chain by prev, and every blob a record references
// must read back whole (hash-verified).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
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

/** Resolves with every acked seq once `count` acks were printed; rejects on exit or timeout. */
async function waitForAcks(child: ChildProcess, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const acked: number[] = []
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
      if (err === undefined) resolve(acked)
      else reject(err)
    }
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('exit', (code) => finish(new Error(`writer exited early (${code}): ${stderr}`)))
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        const match = /^ack (\d+)$/.exec(line)
        if (match === null) return finish(new Error(`unexpected output: ${line}`))
        acked.push(Number(match[1]))
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

test('every acknowledged append survives SIGKILL of the writer, round after round', async () => {
  // Goal: an append that resolved is durable, whatever instant the process dies at.
  const seedHex = 'c7'.repeat(32)
  const init = { path: join(dir, 'db'), seedHex, timeMs: 1_700_000_000_000, nonceHex: '01'.repeat(16) }
  const keys = KeyPair.fromSeed(fromHex(seedHex))
  const fsId = genesisFsId({
    creator: keys.publicKey,
    timeMs: init.timeMs,
    nonce: fromHex(init.nonceHex),
    lockMode: 'strict'
  })
  let lengthBefore = 0
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(process.execPath, [WRITER, JSON.stringify(init)], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const acked = await waitForAcks(child, 40 + round * 23)
    await kill(child)

    const store = await LogStore.open({ path: init.path, fsId, keys })
    try {
      const length = store.length(keys.publicKey)
      expect(length).toBeGreaterThan(Math.max(...acked))
      expect(length).toBeGreaterThan(lengthBefore)
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
      expect(seq).toBe(length)
      expect(blobs).toBeGreaterThan(0)
      for (const ackedSeq of acked)
        expect((await store.get(keys.publicKey, ackedSeq))?.body.seq).toBe(ackedSeq)
      lengthBefore = length
    } finally {
      await store.close()
    }
  }
})
