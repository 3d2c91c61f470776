// A deterministic mixed workload of four writers for the fs benchmark: the same seed gives the
// same records (bodies), so the signed store built once (bench/.cache/) and the unsigned records
// the apply-rate child generates in memory describe the same history.
//
// Shape: round 0 is the creator alone (genesis, Member{add} of the other three, one big
// blob-backed file, its home directory); in every later round each of the four authors writes
// RECORDS_PER_ROUND records that see everything of the previous rounds and nothing of the
// current one (so records of one round are concurrent: the order breaks ties by key, and a
// receiver that gets them author by author rolls back and replays, as a catch-up does).
// Per record (weights per 1000): create 115, unlink 15, mkdir 3, rename 15, overwrite small
// file inline ≤ 1 KiB 300, append inline 150, overwrite with a blob 250 (4 KiB – 1 MiB, from a
// pool), chmod/utime 100, write inline into another author's file 20 (concurrent ones become
// data conflicts). Creates − unlinks ≈ 10 % of records: 1,000,000 records leave ≈ 100,000 files.
export const RECORDS_PER_ROUND = 8
const WEIGHTS = [
  ['create', 115],
  ['unlink', 15],
  ['mkdir', 3],
  ['rename', 15],
  ['overwrite', 300],
  ['append', 150],
  ['blob', 250],
  ['attrs', 100],
  ['foreign', 20]
]
const TOTAL_WEIGHT = WEIGHTS.reduce((sum, [, w]) => sum + w, 0)
const FILES_PER_DIR = 50
const APPEND_LIMIT = 16 * 1024

/** mulberry32: small, fast, good enough for workload choices. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Workload {
  /**
   * @param init.authors   public keys (Uint8Array), author 0 is the creator
   * @param init.genesis   { ops } from genesisOps(authors[0], { lockMode: 'available' })
   * @param init.blobPool  [{ id, length }] blobs to reference from 'blob' writes
   * @param init.bigFile   [{ id, length }] blobs that make up one big file (may be empty)
   * @param init.seed      workload seed
   * @param init.timeMs    time of the first record
   */
  constructor(init) {
    this.authors = init.authors
    this.genesis = init.genesis
    this.blobPool = init.blobPool
    this.bigFile = init.bigFile ?? []
    this.random = prng(init.seed ?? 1)
    this.timeMs = init.timeMs ?? 1_700_000_000_000
    this.root = init.genesis.ops[0].root
    this.noise = new Uint8Array(1 << 20)
    for (let i = 0; i < this.noise.length; i += 4) {
      const v = (this.random() * 2 ** 32) >>> 0
      this.noise[i] = v & 255
      this.noise[i + 1] = (v >>> 8) & 255
      this.noise[i + 2] = (v >>> 16) & 255
      this.noise[i + 3] = v >>> 24
    }
    this.hex = this.authors.map((key) => Buffer.from(key).toString('hex'))
    // vv entries are sorted by author bytes (hex order = byte order).
    this.sortedOthers = this.authors.map((_, a) =>
      this.authors
        .map((_, b) => b)
        .filter((b) => b !== a)
        .sort((x, y) => (this.hex[x] < this.hex[y] ? -1 : 1))
    )
    this.state = this.authors.map(() => ({ seq: 0, dirs: [], files: [], names: 0, seen: new Map() }))
    this.published = [] // files any author may see from the next round on: { ino, owner, round, alive }
    this.round = 0
    this.counts = Object.fromEntries(WEIGHTS.map(([name]) => [name, 0]))
  }

  ino() {
    const bytes = new Uint8Array(16)
    for (let i = 0; i < 16; i += 4) {
      const v = (this.random() * 2 ** 32) >>> 0
      bytes[i] = v & 255
      bytes[i + 1] = (v >>> 8) & 255
      bytes[i + 2] = (v >>> 16) & 255
      bytes[i + 3] = v >>> 24
    }
    return bytes
  }

  int(n) {
    return Math.floor(this.random() * n)
  }

  inline(length) {
    const start = this.int(this.noise.length - length)
    return this.noise.slice(start, start + length)
  }

  /** Yields `total` records { a, seq, vv, timeMs, ops } in a causal arrival order. */
  *records(total) {
    let produced = 0
    const emit = (a, ops, vv = []) => {
      const s = this.state[a]
      const record = { a, seq: s.seq++, vv, timeMs: this.timeMs++, ops }
      produced++
      return record
    }
    // Round 0: the creator alone.
    const creator = this.state[0]
    yield emit(0, this.genesis.ops)
    if (produced >= total) return
    yield emit(
      0,
      this.authors.slice(1).map((key) => ({ type: 'member', action: 'add', key }))
    )
    if (this.bigFile.length > 0 && produced < total) {
      const ino = this.ino()
      const ops = [
        { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
        { type: 'link', dir: this.root, name: 'big.bin', ino }
      ]
      let offset = 0
      for (const blob of this.bigFile) {
        ops.push({ type: 'write', ino, offset, length: blob.length, blob: blob.id })
        offset += blob.length
      }
      ops.push({ type: 'setattrs', ino, size: offset })
      yield emit(0, ops)
    }
    if (produced < total) yield emit(0, this.mkdirOps(0, this.root, 'u0', true))
    void creator
    // Later rounds: every author, RECORDS_PER_ROUND records each.
    while (produced < total) {
      this.round++
      const end = this.authors.map((_, b) => this.state[b].seq - 1)
      const newlyVisible = this.published.length
      for (let a = 0; a < this.authors.length && produced < total; a++) {
        const s = this.state[a]
        const vv = []
        for (const b of this.sortedOthers[a]) {
          if (end[b] >= 0 && end[b] > (s.seen.get(b) ?? -1)) {
            vv.push({ author: this.authors[b], seq: end[b] })
            s.seen.set(b, end[b])
          }
        }
        for (let i = 0; i < RECORDS_PER_ROUND && produced < total; i++) {
          yield emit(a, this.nextOps(a, newlyVisible), i === 0 ? vv : [])
        }
      }
    }
  }

  mkdirOps(a, parent, name, home = false) {
    const ino = this.ino()
    const dir = { ino, files: 0 }
    if (!home) this.state[a].dirs.push(dir)
    else this.state[a].home = dir
    return [
      { type: 'inode', ino, kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
      { type: 'link', dir: parent, name, ino }
    ]
  }

  pickAction() {
    let r = this.int(TOTAL_WEIGHT)
    for (const [name, w] of WEIGHTS) {
      if (r < w) return name
      r -= w
    }
    return 'create'
  }

  nextOps(a, visible) {
    const s = this.state[a]
    if (s.home === undefined) return this.mkdirOps(a, this.root, `u${a}`, true)
    if (s.dirs.length === 0) return this.mkdirOps(a, s.home.ino, `d${s.names++}`)
    let action = this.pickAction()
    if (s.files.length === 0 && action !== 'mkdir') action = 'create'
    if (action === 'foreign' && visible === 0) action = 'overwrite'
    this.counts[action]++
    const t = this.timeMs
    switch (action) {
      case 'create': {
        let dir = s.dirs[s.dirs.length - 1]
        if (dir.files >= FILES_PER_DIR) return this.mkdirOps(a, s.home.ino, `d${s.names++}`)
        dir.files++
        const ino = this.ino()
        const name = `f${s.names++}`
        const file = { ino, dir: dir.ino, name, size: 0, owner: a, round: this.round, alive: true }
        s.files.push(file)
        this.published.push(file)
        return [
          { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
          { type: 'link', dir: dir.ino, name, ino }
        ]
      }
      case 'mkdir':
        return this.mkdirOps(a, s.home.ino, `d${s.names++}`)
      case 'unlink': {
        const index = this.int(s.files.length)
        const file = s.files[index]
        s.files[index] = s.files[s.files.length - 1]
        s.files.pop()
        file.alive = false
        return [{ type: 'unlink', dir: file.dir, name: file.name }]
      }
      case 'rename': {
        const file = s.files[this.int(s.files.length)]
        const dir = s.dirs[this.int(s.dirs.length)]
        const newName = `r${s.names++}`
        const op = { type: 'rename', dir: file.dir, name: file.name, newDir: dir.ino, newName }
        file.dir = dir.ino
        file.name = newName
        return [op]
      }
      case 'overwrite': {
        const file = s.files[this.int(s.files.length)]
        const length = 16 + this.int(1024 - 16 + 1)
        file.size = length
        return [
          { type: 'write', ino: file.ino, offset: 0, length, inline: this.inline(length) },
          { type: 'setattrs', ino: file.ino, size: length, mtimeMs: t }
        ]
      }
      case 'append': {
        const file = s.files[this.int(s.files.length)]
        const length = 16 + this.int(512)
        if (file.size + length > APPEND_LIMIT) {
          file.size = length
          return [
            { type: 'write', ino: file.ino, offset: 0, length, inline: this.inline(length) },
            { type: 'setattrs', ino: file.ino, size: length, mtimeMs: t }
          ]
        }
        const offset = file.size
        file.size += length
        return [{ type: 'write', ino: file.ino, offset, length, inline: this.inline(length) }]
      }
      case 'blob': {
        const file = s.files[this.int(s.files.length)]
        const blob = this.blobPool[this.int(this.blobPool.length)]
        file.size = blob.length
        return [
          { type: 'write', ino: file.ino, offset: 0, length: blob.length, blob: blob.id },
          { type: 'setattrs', ino: file.ino, size: blob.length, mtimeMs: t }
        ]
      }
      case 'attrs': {
        const file = s.files[this.int(s.files.length)]
        return [{ type: 'setattrs', ino: file.ino, mode: this.random() < 0.5 ? 0o600 : 0o644, mtimeMs: t }]
      }
      case 'foreign': {
        // Any file another author created in an earlier round (it may be gone by now).
        let file
        for (let tries = 0; tries < 8 && file === undefined; tries++) {
          const candidate = this.published[this.int(visible)]
          if (candidate.owner !== a) file = candidate
        }
        if (file === undefined) file = s.files[this.int(s.files.length)]
        const length = 16 + this.int(256)
        return [{ type: 'write', ino: file.ino, offset: this.int(256), length, inline: this.inline(length) }]
      }
    }
    throw new Error(`unknown action ${action}`)
  }

  liveFiles() {
    return this.state.reduce((sum, s) => sum + s.files.length, 0) + (this.bigFile.length > 0 ? 1 : 0)
  }
}

/** Sizes of the blob pool the 'blob' writes reference (bytes). */
export const BLOB_POOL_SIZES = [4096, 16384, 65536, 200_000, 1 << 20]
export const BLOB_POOL_COUNT = 40
