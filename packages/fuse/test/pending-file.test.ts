import { describe, expect, test } from 'vitest'
import { createHash } from 'node:crypto'
import type { CommitInit } from '@ivyfs/fs'
import { MemorySpans } from '../src/memory-spans.js'
import { PendingFile } from '../src/pending-file.js'

/** A tiny deterministic PRNG (mulberry32): the seed is in the test name, so failures replay. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Applies a commit to a byte array the way the fs does: writes in order, then the size. */
function applyCommit(base: Uint8Array, commit: CommitInit, blobs: Map<string, Uint8Array>): Uint8Array {
  let content = base
  for (const write of commit.writes ?? []) {
    const data = 'data' in write ? write.data : blobs.get(Buffer.from(write.blob).toString('hex'))!
    const end = write.offset + data.byteLength
    if (end > content.byteLength) {
      const grown = new Uint8Array(end)
      grown.set(content)
      content = grown
    }
    content.set(data, write.offset)
  }
  if (commit.size !== undefined) {
    const sized = new Uint8Array(commit.size)
    sized.set(content.subarray(0, commit.size))
    content = sized
  }
  return content
}

describe('MemorySpans', () => {
  test('merges, overwrites and clips like a byte array', () => {
    // Goal: the span list always reads back exactly what a flat array would hold.
    for (let seed = 1; seed <= 20; seed++) {
      const random = prng(seed)
      const spans = new MemorySpans()
      const model = new Uint8Array(4096)
      const written = new Uint8Array(4096)
      for (let step = 0; step < 200; step++) {
        const offset = Math.floor(random() * 3000)
        if (random() < 0.1) {
          spans.clip(offset)
          model.fill(0, offset)
          written.fill(0, offset)
          continue
        }
        const data = new Uint8Array(1 + Math.floor(random() * 300)).map(() => Math.floor(random() * 256))
        spans.write(offset, data)
        model.set(data, offset)
        written.fill(1, offset, offset + data.byteLength)
      }
      const target = new Uint8Array(4096)
      spans.overlay(target, 0)
      const masked = model.map((byte, i) => (written[i] === 1 ? byte : 0))
      expect(Buffer.from(target).equals(Buffer.from(masked)), `seed ${seed}`).toBe(true)
      const ranges = spans.ranges()
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1])
    }
  })
})

describe('PendingFile', () => {
  test('times set on the open file go into its commit to the nanosecond; none set, none sent', () => {
    // Goal: utimens of an open file (cp -a, tar) reaches the record whole: ms and remainder.
    const pending = new PendingFile()
    pending.write(0, Uint8Array.of(1))
    expect(pending.toCommit(0).attrs).toEqual({})
    pending.mtime = { ms: 1_600_000_000_123, subMsNs: 456_789 }
    expect(pending.toCommit(0).attrs).toEqual({ mtimeMs: 1_600_000_000_123, mtimeSubMsNs: 456_789 })
    pending.atime = { ms: 5, subMsNs: 0 }
    expect(pending.toCommit(0).attrs).toEqual({
      atimeMs: 5,
      atimeSubMsNs: 0,
      mtimeMs: 1_600_000_000_123,
      mtimeSubMsNs: 456_789
    })
    const onlyTimes = new PendingFile()
    expect(onlyTimes.isEmpty).toBe(true)
    onlyTimes.atime = { ms: 5, subMsNs: 1 }
    expect(onlyTimes.isEmpty).toBe(false)
  })

  test('overlay and commit agree with a flat model through writes, staging and truncates', async () => {
    // Goal: what this mount reads before close equals what every peer reads after it.
    for (let seed = 1; seed <= 30; seed++) {
      const random = prng(seed)
      const blobs = new Map<string, Uint8Array>()
      const put = (data: Uint8Array): Uint8Array => {
        const id = createHash('sha256').update(data).digest()
        blobs.set(id.toString('hex'), data.slice())
        return new Uint8Array(id)
      }
      const readBlob = async (blob: Uint8Array, _length: number, offset: number, size: number) =>
        blobs.get(Buffer.from(blob).toString('hex'))!.subarray(offset, offset + size)
      let committed: Uint8Array = new Uint8Array(2000).map(() => Math.floor(random() * 256))
      let model = committed.slice()
      let pending = new PendingFile()
      for (let step = 0; step < 60; step++) {
        const choice = random()
        if (choice < 0.6) {
          const offset = Math.floor(random() * 5000)
          const data = new Uint8Array(1 + Math.floor(random() * 700)).map(() => Math.floor(random() * 256))
          pending.write(offset, data)
          if (offset + data.byteLength > model.byteLength) {
            const grown = new Uint8Array(offset + data.byteLength)
            grown.set(model)
            model = grown
          }
          model.set(data, offset)
        } else if (choice < 0.75) {
          for (const layer of pending.takeSpans()) {
            layer.blob = put(layer.data!)
            layer.data = undefined
          }
        } else if (choice < 0.85) {
          const size = Math.floor(random() * 6000)
          if (!pending.truncate(size, committed.byteLength)) {
            committed = applyCommit(committed, pending.toCommit(committed.byteLength), blobs)
            pending = new PendingFile()
            expect(pending.truncate(size, committed.byteLength)).toBe(true)
          }
          const sized = new Uint8Array(size)
          sized.set(model.subarray(0, size))
          model = sized
        } else {
          committed = applyCommit(committed, pending.toCommit(committed.byteLength), blobs)
          pending = new PendingFile()
          expect(Buffer.from(committed).equals(Buffer.from(model)), `seed ${seed} commit ${step}`).toBe(true)
        }
        expect(pending.size(committed.byteLength), `seed ${seed} step ${step}`).toBe(model.byteLength)
        // What the kernel's buffer held before is garbage that overlay must overwrite.
        const target = new Uint8Array(model.byteLength).fill(0xee)
        const held = Math.min(committed.byteLength, target.byteLength)
        target.set(committed.subarray(0, held))
        await pending.overlay(target, 0, held, readBlob)
        expect(Buffer.from(target).equals(Buffer.from(model)), `seed ${seed} step ${step}`).toBe(true)
      }
    }
  })
})
