import { describe, expect, test } from 'vitest'
import { PendingRecords } from '../src/pending.js'
import type { ViewRecord } from '../src/model.js'

const record = (seq: number): ViewRecord =>
  ({
    id: new Uint8Array(32),
    body: { author: new Uint8Array(32), seq, vv: [], timeMs: 0, ops: [] }
  }) as ViewRecord

describe('records waiting for a predecessor', () => {
  test('placing a record wakes exactly the authors that waited for it, once', () => {
    // Goal: the index that makes placement linear hands back each waiter when its record lands.
    const pending = new PendingRecords()
    expect(pending.add('b', 0, record(0))).toBe(true)
    expect(pending.add('b', 0, record(0))).toBe(false) // the first copy is kept
    expect(pending.add('c', 0, record(0))).toBe(true)
    pending.wait('a', 3, 'b')
    pending.wait('a', 3, 'c')
    pending.wait('a', 3, 'b')
    expect(pending.size).toBe(2)
    expect(pending.wake('a', 2)).toEqual([])
    expect(pending.wake('a', 3)).toEqual(['b', 'c'])
    expect(pending.wake('a', 3)).toEqual([])
    pending.delete('b', 0)
    expect(pending.peek('b', 0)).toBeUndefined()
    expect(pending.size).toBe(1)
  })
})
