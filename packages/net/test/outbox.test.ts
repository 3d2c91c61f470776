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
