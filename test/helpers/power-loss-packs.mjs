// A PackDirectory for crash tests that keeps, beside each pack file, an image of the bytes that
// are certainly durable: at each flush it copies the file as it was when the flush began (what
// fdatasync guarantees), and files created, truncated or removed update their image the same way.
// After the process is killed, log-crash.test.ts puts the images in place of the pack files: the
// disk as a power loss could leave it, every write that was not flushed gone.
// Plain .mjs on the built package, for child processes (no vitest aliases there).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openPackDirectory, packFileName } from '../../packages/log/dist/pack-file.js'

const IMAGES = 'power-loss-images'

export function imageDirectory(packsPath) {
  return join(packsPath, '..', IMAGES)
}

export function powerLossPackDirectory(packsPath) {
  const inner = openPackDirectory(packsPath)
  const images = imageDirectory(packsPath)
  mkdirSync(images, { recursive: true })
  const filePath = (number) => join(packsPath, packFileName(number))
  // Flushes of one file may overlap (a background flush and a durable commit): the image is the
  // bytes as of the latest flush begun among those completed, never an older one.
  const taken = new Map()
  let clock = 0
  const image = (number, bytes, at = ++clock) => {
    if ((taken.get(number) ?? -1) > at) return
    taken.set(number, at)
    // Written aside and renamed: a kill in the middle of writing (an image holds the pack's
    // preallocated megabytes) must leave the previous image whole, not a truncated one.
    const path = join(images, packFileName(number))
    writeFileSync(`${path}.tmp`, bytes)
    renameSync(`${path}.tmp`, path)
  }
  // A pack already on disk when the store opens is durable as it is (its image is the file).
  for (const number of inner.list()) image(number, readFileSync(filePath(number)))
  const wrap = (file) => {
    // The bytes as the flush begins are what it makes durable (later writes may or may not be).
    const datasyncSync = () => {
      const at = ++clock
      const before = readFileSync(filePath(file.number))
      file.datasyncSync()
      image(file.number, before, at)
    }
    const datasync = async () => {
      const at = ++clock
      const before = readFileSync(filePath(file.number))
      await file.datasync()
      image(file.number, before, at)
    }
    return {
      number: file.number,
      size: () => file.size(),
      writeSync: (buffers, position) => file.writeSync(buffers, position),
      writeDurableSync: (buffers, position) => {
        file.writeSync(buffers, position)
        datasyncSync()
      },
      datasyncSync,
      write: async (buffers, position) => file.write(buffers, position),
      writeDurable: async (buffers, position) => {
        await file.write(buffers, position)
        await datasync()
      },
      datasync,
      preallocate: async (from, to) => {
        await file.preallocate(from, to) // zeros, flushed; the image need not hold them
      },
      read: async (position, length) => file.read(position, length),
      readInto: async (position, target) => file.readInto(position, target),
      readIntoMany: async (position, targets) => file.readIntoMany(position, targets),
      truncate: (length) => {
        file.truncate(length)
        image(file.number, readFileSync(filePath(file.number)))
      },
      close: () => file.close()
    }
  }
  return {
    list: () => inner.list(),
    open: (number) => wrap(inner.open(number)),
    create: (number) => {
      const file = inner.create(number)
      image(number, new Uint8Array(0))
      return wrap(file)
    },
    remove: (number) => {
      inner.remove(number)
      rmSync(join(images, packFileName(number)), { force: true })
    }
  }
}
