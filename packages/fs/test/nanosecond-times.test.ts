import { describe, expect, test } from 'vitest'
import type { SetAttrsOp } from '@ivyfs/log'
import { Filesystem, MemoryLog, NS_PER_MS, View, type Attr, type ViewRecord } from '../src/index.js'
import { closeAll, keyFor, makePeers, syncAll, text } from './helpers/sim.js'

/** One member whose records are stamped 1000, 2000, … ms. */
async function ticking(): Promise<{ fs: Filesystem; log: MemoryLog; tick: () => number }> {
  let now = 0
  const log = new MemoryLog(keyFor('ns-times'))
  const fs = await Filesystem.createOn(log, { lockMode: 'strict', clock: () => now })
  return { fs, log, tick: () => (now += 1000) }
}

type Times = Pick<Attr, 'atimeMs' | 'atimeSubMsNs' | 'mtimeMs' | 'mtimeSubMsNs'>
const timesOf = (attr: Attr): Times => ({
  atimeMs: attr.atimeMs,
  atimeSubMsNs: attr.atimeSubMsNs,
  mtimeMs: attr.mtimeMs,
  mtimeSubMsNs: attr.mtimeSubMsNs
})

/** 2001-02-03T04:05:06.123456789Z as ms + the nanoseconds past them. */
const MS = Date.UTC(2001, 1, 3, 4, 5, 6, 123)
const NS = 456_789

const lastSetAttrs = (log: MemoryLog): SetAttrsOp => {
  const ops = log.records().at(-1)!.body.ops
  return ops.find((op): op is SetAttrsOp => op.type === 'setattrs')!
}

describe('atime and mtime to the nanosecond', () => {
  test('setattr keeps the nanoseconds past each millisecond, and getattr and readdir report them', async () => {
    // Goal: utimensat's whole time survives, not only its milliseconds.
    const { fs, tick } = await ticking()
    tick()
    await fs.create('/f')
    expect(timesOf(await fs.getattr('/f'))).toMatchObject({ atimeSubMsNs: 0, mtimeSubMsNs: 0 })
    await fs.setattr('/f', { atimeMs: MS, atimeSubMsNs: NS, mtimeMs: MS + 1, mtimeSubMsNs: NS_PER_MS - 1 })
    const expected = { atimeMs: MS, atimeSubMsNs: NS, mtimeMs: MS + 1, mtimeSubMsNs: NS_PER_MS - 1 }
    expect(timesOf(await fs.getattr('/f'))).toEqual(expected)
    const [entry] = await fs.readdir('/')
    expect(timesOf(entry!.attr)).toEqual(expected)
    await fs.close()
  })

  test('a time set again without nanoseconds has none; the other time keeps its own', async () => {
    // Goal: a time and its remainder are one attribute: `touch -d 04:05:07` after `touch -d
    // 04:05:06.123456789` shows .000000000, not the old nanoseconds.
    const { fs, tick } = await ticking()
    tick()
    await fs.create('/f')
    await fs.setattr('/f', { atimeMs: MS, atimeSubMsNs: NS, mtimeMs: MS, mtimeSubMsNs: NS })
    await fs.setattr('/f', { atimeMs: MS + 1000 })
    expect(timesOf(await fs.getattr('/f'))).toEqual({
      atimeMs: MS + 1000,
      atimeSubMsNs: 0,
      mtimeMs: MS,
      mtimeSubMsNs: NS
    })
    await fs.setattr('/f', { mtimeMs: MS, mtimeSubMsNs: 0 })
    expect((await fs.getattr('/f')).mtimeSubMsNs).toBe(0)
    await fs.close()
  })

  test('a write or a truncate sets mtime from its record, without nanoseconds', async () => {
    // Goal: mtime's remainder goes with mtime: a data change leaves none behind.
    const { fs, tick } = await ticking()
    tick()
    await fs.create('/f')
    await fs.setattr('/f', { atimeMs: MS, atimeSubMsNs: NS, mtimeMs: MS, mtimeSubMsNs: NS })
    const t1 = tick()
    await fs.write('/f', 0, text('abc'))
    expect(timesOf(await fs.getattr('/f'))).toEqual({
      atimeMs: MS,
      atimeSubMsNs: NS,
      mtimeMs: t1,
      mtimeSubMsNs: 0
    })
    await fs.setattr('/f', { mtimeMs: MS, mtimeSubMsNs: NS })
    const t2 = tick()
    await fs.truncate('/f', 1)
    expect(timesOf(await fs.getattr('/f'))).toMatchObject({ mtimeMs: t2, mtimeSubMsNs: 0 })
    await fs.close()
  })

  test('a close commits its times with their nanoseconds in the same record as its data', async () => {
    // Goal: `cp -a` sets times on the open file; they land after the writes of its close.
    const { fs, log, tick } = await ticking()
    tick()
    await fs.create('/f')
    tick()
    const attrs = { atimeMs: MS, atimeSubMsNs: 1, mtimeMs: MS, mtimeSubMsNs: NS }
    await fs.commit('/f', { writes: [{ offset: 0, data: text('data') }], attrs })
    expect(timesOf(await fs.getattr('/f'))).toEqual(attrs)
    expect(
      log
        .records()
        .at(-1)!
        .body.ops.map((op) => op.type)
    ).toEqual(['write', 'setattrs'])
    await fs.close()
  })

  test('a zero remainder is written as none, so the op keeps the encoding it always had', async () => {
    // Goal: one spelling per time in the log (the codec refuses an explicit zero).
    const { fs, log, tick } = await ticking()
    tick()
    await fs.create('/f')
    await fs.setattr('/f', { atimeMs: MS, atimeSubMsNs: 0, mtimeMs: MS, mtimeSubMsNs: NS })
    expect(lastSetAttrs(log)).not.toHaveProperty('atimeSubMsNs')
    expect(lastSetAttrs(log)).toMatchObject({ atimeMs: MS, mtimeMs: MS, mtimeSubMsNs: NS })
    await fs.close()
  })

  test.each([
    ['a remainder without its time', { mtimeSubMsNs: 5 }],
    ['a remainder of NS_PER_MS', { atimeMs: MS, atimeSubMsNs: NS_PER_MS }],
    ['a negative remainder', { mtimeMs: MS, mtimeSubMsNs: -1 }],
    ['a fractional remainder', { mtimeMs: MS, mtimeSubMsNs: 0.5 }],
    ['a time before the epoch', { atimeMs: -1 }],
    ['a fractional ms', { mtimeMs: 1.5 }]
  ])('%s is EINVAL and writes nothing', async (_, attrs) => {
    // Goal: the API refuses what the log could not encode, with a typed error, before appending.
    const { fs, log, tick } = await ticking()
    tick()
    await fs.create('/f')
    const records = log.records().length
    await expect(fs.setattr('/f', attrs)).rejects.toMatchObject({ errno: 'EINVAL' })
    expect(log.records().length).toBe(records)
    await fs.close()
  })
})

describe('concurrent times', () => {
  /** Every order of `records` fed to a fresh view (rollbacks and replays included). */
  function viewsInEveryOrder(records: readonly ViewRecord[], tail: number): View[] {
    const head = records.slice(0, records.length - tail)
    const last = records.slice(records.length - tail)
    const orders = [last, [...last].reverse()]
    return orders.map((order) => {
      const view = new View()
      view.ingestMany(head)
      for (const record of order) view.ingest(record)
      return view
    })
  }

  test('unapplying a tentative record restores the nanoseconds it replaced', async () => {
    // Goal: the undo log covers the remainders: the stable state (what a snapshot holds) has the
    // time before a record that may still be reordered, not a mix of its ms and later nanoseconds.
    const [a, b] = await makePeers(['a', 'b'])
    await a!.fs.create('/f')
    await a!.fs.setattr('/f', { atimeMs: MS, atimeSubMsNs: NS, mtimeMs: MS, mtimeSubMsNs: NS })
    syncAll([a!, b!])
    await b!.fs.create('/g') // b has seen a's records: they become stable
    syncAll([a!, b!])
    const { ino } = await a!.fs.setattr('/f', { atimeMs: MS + 1, mtimeMs: MS + 1, mtimeSubMsNs: 7 })
    const view: View = a!.fs['view']
    view.advanceStable()
    const stable = view.withStableState((state) => ({ ...state.inode(ino)! }))
    expect(stable).toMatchObject({ atimeMs: MS, atimeSubMsNs: NS, mtimeMs: MS, mtimeSubMsNs: NS })
    const after = { atimeMs: MS + 1, atimeSubMsNs: 0, mtimeMs: MS + 1, mtimeSubMsNs: 7 }
    expect(view.state.inode(ino)).toMatchObject(after)
    await closeAll([a!, b!])
  })

  test.each([
    ['the time with nanoseconds', 'a'],
    ['the time without', 'b']
  ])('concurrent utimes: the record that sorts later sets the whole time (%s from %s)', async (_, withNs) => {
    // Goal: a time and its remainder never mix across records: every peer shows one record's
    // whole mtime, whatever order the records arrived in.
    const [a, b] = await makePeers(['a', 'b'])
    await a!.fs.create('/f')
    syncAll([a!, b!])
    const [ns, plain] = withNs === 'a' ? [a!, b!] : [b!, a!]
    await ns.fs.setattr('/f', { mtimeMs: MS, mtimeSubMsNs: NS })
    await plain.fs.setattr('/f', { mtimeMs: MS + 5 })
    syncAll([a!, b!])
    const shown = timesOf(await a!.fs.getattr('/f'))
    expect(timesOf(await b!.fs.getattr('/f'))).toEqual(shown)
    expect([
      { mtimeMs: MS, mtimeSubMsNs: NS },
      { mtimeMs: MS + 5, mtimeSubMsNs: 0 }
    ]).toContainEqual({ mtimeMs: shown.mtimeMs, mtimeSubMsNs: shown.mtimeSubMsNs })
    const { ino } = await a!.fs.getattr('/f')
    for (const view of viewsInEveryOrder(a!.log.records(), 2)) {
      const inode = view.state.inode(ino)!
      expect({ mtimeMs: inode.mtimeMs, mtimeSubMsNs: inode.mtimeSubMsNs }).toEqual({
        mtimeMs: shown.mtimeMs,
        mtimeSubMsNs: shown.mtimeSubMsNs
      })
    }
    await closeAll([a!, b!])
  })
})
