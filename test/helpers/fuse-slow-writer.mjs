// Child process for FUSE tests: one process, one descriptor. Writes argv[3] bytes of 'a' to the
// file argv[2], creates argv[4]/wrote, waits for argv[4]/go, writes argv[3] bytes of 'b', closes.
// (A shell cannot do this: each redirection or child exit closes a descriptor, and every close
// is a FUSE flush, which commits.)
import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs'

const [, , path, bytes, signals] = process.argv
const length = Number(bytes)
const fd = openSync(path, 'w')
writeSync(fd, Buffer.alloc(length, 'a'))
writeFileSync(`${signals}/wrote`, '')
const deadline = Date.now() + 30_000
while (!existsSync(`${signals}/go`)) {
  if (Date.now() > deadline) process.exit(2)
  await new Promise((resolve) => setTimeout(resolve, 5))
}
writeSync(fd, Buffer.alloc(length, 'b'))
closeSync(fd)
