import { afterEach, describe, expect, test } from 'vitest'
import { decodeRecord, toHex } from '@ivyfs/log'
import { LIVE_QUEUE_RECORDS_MAX, silentLogger, type ReplicateMessage } from '../src/index.js'
import { Outbox } from '../src/outbox.js'
import { PendingPool } from '../src/pending-pool.js'
import { Harness, eventually, ino, seededKeys, testFs } from './helpers.js'

const harness = new Harness()
afterEach(async () => harness.cleanup())

describe('outbox', () => {
  test('a stalled peer bounds the live queue, then gets every record once, in order', async () => {
    // Goal: backpressure never grows memory; an overflow falls back to catch-up without loss.
    const keys = seededKeys('a')
    const fs = testFs(keys)
    const { store } = await harness.openStore(fs, keys)
    await store.append(fs.genesisOps)
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const sent: number[] = []
    const controller = new AbortController()
    const send = async (message: ReplicateMessage): Promise<void> => {
      await gate
      if (message.t === 'rec') sent.push(decodeRecord(message.bytes, { verify: false }).body.seq)
    }
    const outbox = new Outbox({ store, send, logger: silentLogger, signal: controller.signal }, new Map())
    const unsubscribe = store.onRecord((record) => outbox.offer(record))
    const running = outbox.run()
    let queuedMax = 0
    const count = LIVE_QUEUE_RECORDS_MAX + 500
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await store.append([{ type: 'link', dir: ino('root'), name: `f${i}`, ino: ino(`f${i}`) }])
        queuedMax = Math.max(queuedMax, outbox.queuedRecords)
      })
    )
    expect(queuedMax).toBeLessThanOrEqual(LIVE_QUEUE_RECORDS_MAX)
    release()
    await eventually('every record sent', () => outbox.recordsSent === count + 1)
    expect(sent).toEqual(Array.from({ length: count + 1 }, (_, seq) => seq))
    controller.abort()
    unsubscribe()
    await running
  })

  test('a peer that already holds records is not sent them again', async () => {
    // Goal: catch-up starts from the peer's version vector.
    const keys = seededKeys('a')
    const fs = testFs(keys)
    const { store } = await harness.openStore(fs, keys)
    await store.append(fs.genesisOps)
    for (let i = 0; i < 5; i++) await store.append([{ type: 'ack' }])
    const seqs: number[] = []
    const controller = new AbortController()
    const outbox = new Outbox(
      {
        store,
        send: async () => {
          seqs.push(outbox.recordsSent + 4)
        },
        logger: silentLogger,
        signal: controller.signal
      },
      new Map([[toHex(keys.publicKey), 3]])
    )
    const running = outbox.run()
    await eventually('the two missing records are sent', () => outbox.recordsSent === 2)
    expect(seqs).toEqual([4, 5])
    controller.abort()
    await running
  })

  test('our record goes live at once even when the peer lacks a foreign record it covers', async () => {
    // Goal: no relay on the critical path: an Ack covering another member's Prepare is sent alone
    // (the peer waits for the Prepare from its author); the foreign record is not dragged along.
    const [a, b] = [seededKeys('a'), seededKeys('b')]
    const fs = testFs(a)
    const { store } = await harness.openStore(fs, a)
    const genesis = await store.append(fs.genesisOps)
    const other = (await harness.openStore(fs, b)).store
    await other.ingest(genesis.bytes)
    const foreign = await other.append([{ type: 'ack' }])
    const sent: string[] = []
    const controller = new AbortController()
    const outbox = new Outbox(
      {
        store,
        send: async (message) => {
          if (message.t !== 'rec') return
          const { author, seq } = decodeRecord(message.bytes, { verify: false }).body
          sent.push(`${toHex(author) === toHex(a.publicKey) ? 'a' : 'b'}:${seq}`)
        },
        logger: silentLogger,
        signal: controller.signal
      },
      new Map([[toHex(a.publicKey), 0]])
    )
    const running = outbox.run()
    await store.ingest(foreign.bytes)
    const ours = await store.append([{ type: 'ack' }])
    expect(ours.body.vv.map((entry) => toHex(entry.author))).toContain(toHex(b.publicKey))
    outbox.offer(ours)
    await eventually('our record is sent', () => sent.includes('a:1'))
    expect(sent).toEqual(['a:1'])
    outbox.requestCatchUp() // what a relay too large to queue does: the foreign record follows
    await eventually('the foreign record is relayed', () => sent.includes('b:0'))
    controller.abort()
    await running
  })
})

describe('pending pool', () => {
  test('hands back waiters when their dependency arrives and evicts the oldest when full', () => {
    // Goal: the pool is bounded and every eviction is reported (so the sender is asked to resend).
    const pool = new PendingPool({ recordsMax: 2, bytesMax: 1000 })
    const entry = (key: string, waitFor: string, bytes = 10) => ({
      key,
      bytes: new Uint8Array(bytes),
      from: 'p',
      waitFor
    })
    expect(pool.add(entry('a:1', 'b:0'))).toEqual([])
    expect(pool.add(entry('a:2', 'b:0'))).toEqual([])
    expect(pool.add(entry('c:5', 'd:3')).map((e) => e.key)).toEqual(['a:1'])
    expect(pool.takeWaitingFor('b', 0).map((e) => e.key)).toEqual(['a:2'])
    expect(pool.takeWaitingFor('b', 0)).toEqual([])
    expect(pool.add(entry('big', 'x:0', 2000)).map((e) => e.key)).toEqual(['big'])
    expect(pool.size).toBe(1)
    expect(pool.byteLength).toBe(10)
  })
})
