#!/usr/bin/env node
// Reproduction (found by test/scenarios/reliability-disk-full.test.ts): a LogStore whose directory
// fills up. Needs root (mounts a 16 MiB tmpfs, unmounted at the end) and `npx tsc -b` first.
//   node test/soak/repro/enospc-log-store.mjs blob    records with 300 KB blobs: the pack file fills
//   node test/soak/repro/enospc-log-store.mjs small   records with 1000 B inline data: LevelDB fills
// Expected: the failing append throws an error carrying ENOSPC, and once the tmpfs is grown the
// same store takes appends again.
// `blob`: threw AssertionError "libuv writes every buffer (looping over IOV_MAX) or fails" (a short
//   pwritev is not an error); fixed in a734740, now ENOSPC and the store recovers.
// `small`: still open: LevelDB's write fails with LEVEL_IO_ERROR (its message says "No space left
//   on device", its code is not ENOSPC), and keeps failing after the disk has grown, until the
//   store is closed (which fails too) and reopened: LevelDB keeps its background error.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KeyPair, LogStore, genesisFsId } from '../../../packages/log/dist/index.js'

const kind = process.argv[2] ?? 'small'
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
      const write =
        kind === 'blob'
          ? {
              type: 'write',
              ino,
              offset: 0,
              length: 300_000,
              blob: await store.blobs.put(new Uint8Array(randomBytes(300_000)))
            }
          : { type: 'write', ino, offset: 0, length: 1000, inline: new Uint8Array(randomBytes(1000)) }
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
  console.log(`${kind}: appended ${appended} records, then the disk was full: ${describe(failure)}`)
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
