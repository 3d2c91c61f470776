// Child process for test/scenarios/log-crash.test.ts: appends records to a LogStore forever,
// several in flight at once (so group commit is exercised), and prints "ack <seq>" for each append
// only after its promise resolved, i.e. once the record is durable. The test SIGKILLs it.
// With `lazy`, every other append is lazy (close's group commit): it prints "written <seq>" when
// the append resolves and "durable <seq>" when the store's durable view (what peers are sent)
// takes each record; `powerLoss` keeps images of the durable bytes (power-loss-packs.mjs).
// Some records reference blob data: a multi-chunk blob stored with blobs.put (durable by itself),
// or a chunk stored as a peer's would be (putChunk: flushed by the record that follows).
// Plain .mjs on the built package: child processes do not get vitest's TypeScript aliases.
import { randomBytes } from 'node:crypto'
import {
  BLOB_CHUNK_BYTES,
  KeyPair,
  LogStore,
  fromHex,
  genesisFsId,
  sha256
} from '../../packages/log/dist/index.js'
import { withComponents } from '../../packages/log/dist/log-store.js'
import { powerLossPackDirectory } from './power-loss-packs.mjs'

const IN_FLIGHT = 4
const { path, seedHex, timeMs, nonceHex, lazy, powerLoss } = JSON.parse(process.argv[2] ?? '{}')
const keys = KeyPair.fromSeed(fromHex(seedHex))
const descriptor = { creator: keys.publicKey, timeMs, nonce: fromHex(nonceHex), lockMode: 'strict' }
const root = new Uint8Array(16)
const init = { path, fsId: genesisFsId(descriptor), keys }
const store = await LogStore.open(
  powerLoss === true ? withComponents(init, { packDirectory: powerLossPackDirectory }) : init
)
if (lazy === true) store.durable.onRecord((record) => process.stdout.write(`durable ${record.body.seq}\n`))

if (store.length(keys.publicKey) === 0) {
  const genesis = await store.append([
    { type: 'genesis', descriptor, root },
    { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 }
  ])
  process.stdout.write(`ack ${genesis.body.seq}\n`)
}

let count = 0
async function writeOp(ino, n) {
  if (n % 7 === 3) {
    const data = new Uint8Array(randomBytes(BLOB_CHUNK_BYTES * 2 + n))
    return { type: 'write', ino, offset: 0, length: data.byteLength, blob: await store.blobs.put(data) }
  }
  if (n % 7 === 5) {
    const data = new Uint8Array(randomBytes(2000 + n))
    const id = sha256(data)
    await store.blobs.putChunk(id, data)
    return { type: 'write', ino, offset: 0, length: data.byteLength, blob: id }
  }
  const data = new Uint8Array(randomBytes(1 + (n % 700)))
  return { type: 'write', ino, offset: 0, length: data.byteLength, inline: data }
}

async function appendOne() {
  const n = ++count
  const ino = new Uint8Array(randomBytes(16))
  const durable = lazy !== true || n % 2 === 0
  const record = await store.append(
    [
      { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
      await writeOp(ino, n),
      { type: 'link', dir: root, name: `file-${n}`, ino }
    ],
    { durable }
  )
  process.stdout.write(`${durable ? 'ack' : 'written'} ${record.body.seq}\n`)
}

async function worker() {
  for (;;) await appendOne()
}

for (let i = 0; i < IN_FLIGHT; i++) {
  worker().catch((err) => {
    process.stderr.write(`writer failed: ${err?.stack ?? err}\n`)
    process.exit(1)
  })
}
