#!/usr/bin/env node
// Reproduction (found by test/scenarios/reliability-disk-full.test.ts): a LogStore whose directory
// fills up. Needs root (mounts a 16 MiB tmpfs, unmounted at the end) and `npx tsc -b` first.
//   node test/soak/repro/enospc-log-store.mjs blob    records with 300 KB blobs: the pack file fills
//   node test/soak/repro/enospc-log-store.mjs small   records with 1000 B inline data: LevelDB fills
//   node test/soak/repro/enospc-log-store.mjs medium  100 KB blobs (one slice each), no records
// Expected: the failing append throws an error carrying ENOSPC, and once the tmpfs is grown the
// same store takes appends again.
// `blob`: threw AssertionError "libuv writes every buffer (looping over IOV_MAX) or fails" (a short
//   pwritev is not an error); fixed in a734740, now ENOSPC and the store recovers.
// `medium`: left an unhandled rejection behind (packages/log/src/blob-io.ts putChunks: the slice's
//   write promise rejected at once, on the blocking small-commit path, while putChunks awaited
//   setImmediate before Promise.allSettled attached its handler; the daemon treats
//   unhandledRejection as fatal). Fixed in c825b62: each slice's write is handled where it is
//   queued; now ENOSPC, no unhandled rejection, and the store recovers.
// `small`: LevelDB's write failed with LEVEL_IO_ERROR (the errno only in its message) and kept
//   failing after the disk had grown, until the store was closed and reopened: LevelDB keeps its
//   background error. Fixed in packages/log/src/pack-index.ts: the index keeps a failed batch in
//   memory, the packs (the truth) go on taking writes, LevelDB is reopened once the disk has room,
//   and a refusal is IndexWriteError with code ENOSPC. Now the pack write fails with ENOSPC, the
//   same store takes appends once the disk has grown, and its close succeeds.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KeyPair, LogStore, genesisFsId } from '../../../packages/log/dist/index.js'

const kind = process.argv[2] ?? 'small'
let unhandled = 0
process.on('unhandledRejection', () => unhandled++)
const dir = mkdtempSync(join(tmpdir(), 'ivyfs-repro-enospc-'))
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir])
const describe = (err) =>
  `${err.name}${err.code === undefined ? '' : ` (${err.code})`}: ${err.message.split('\n')[0]}`
try {
  const keys = KeyPair.generate()
  const descriptor = { creator: keys.publicKey, timeMs: 1, nonce: new Uint8Array(16), lockMode: 'strict' }
  const root = new Uint8Array(16)
  const init = { path: join(dir, 'store'), fsId: genesisFsId(descriptor), keys }
  const store = await LogStore.open(init)
  await store.append([
    { type: 'genesis', descriptor, root },
    { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 }
  ])
  let appended = 0
  let failure
  while (failure === undefined) {
    try {
      const ino = new Uint8Array(randomBytes(16))
      const blobBytes = kind === 'blob' ? 300_000 : kind === 'medium' ? 100_000 : 0
      const data = new Uint8Array(randomBytes(blobBytes || 1000))
      const write =
        blobBytes > 0
          ? { type: 'write', ino, offset: 0, length: blobBytes, blob: await store.blobs.put(data) }
          : { type: 'write', ino, offset: 0, length: 1000, inline: data }
      if (kind === 'medium') {
        appended++
        continue
      }
      await store.append([
        { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
        write,
        { type: 'link', dir: root, name: `f${appended}`, ino }
      ])
      appended++
    } catch (err) {
      failure = err
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  console.log(
    `${kind}: stored ${appended} ${kind === 'medium' ? 'blobs' : 'records'}, then the disk was full: ${describe(failure)}; unhandled rejections: ${unhandled}`
  )
  execFileSync('mount', ['-o', 'remount,size=256m', dir])
  try {
    await store.append([{ type: 'ack' }])
    console.log(`${kind}: after the disk grew, append works`)
  } catch (err) {
    console.log(`${kind}: after the disk grew, append STILL fails: ${describe(err)}`)
  }
  await store.close().catch((err) => console.log(`${kind}: close fails: ${describe(err)}`))
  const reopened = await LogStore.open(init)
  await reopened.append([{ type: 'ack' }])
  console.log(
    `${kind}: after reopening, append works; own log holds ${reopened.length(keys.publicKey)} records`
  )
  await reopened.close()
} finally {
  execFileSync('umount', [dir])
  rmSync(dir, { recursive: true, force: true })
}
