import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { KeyPair, loadKeyPair, saveKeyPair } from '../src/index.js'
import { TempDirs } from './helpers.js'

const temp = new TempDirs()
afterEach(async () => temp.cleanup())

test('a saved key loads back with mode 0600 and no temp file left', async () => {
  // Goal: the key file is private, complete, and written by rename.
  const dir = await temp.dir()
  const path = join(dir, 'key.json')
  const keys = KeyPair.generate()
  await saveKeyPair(path, keys)
  expect((await stat(path)).mode & 0o777).toBe(0o600)
  expect(await readdir(dir)).toEqual(['key.json'])
  const loaded = await loadKeyPair(path)
  expect(loaded.publicKey).toEqual(keys.publicKey)
  expect(loaded.seed).toEqual(keys.seed)
})

test('saving over an existing key replaces it whole', async () => {
  // Goal: the atomic rename leaves exactly the new key.
  const path = join(await temp.dir(), 'key.json')
  await saveKeyPair(path, KeyPair.generate())
  const second = KeyPair.generate()
  await saveKeyPair(path, second)
  expect((await loadKeyPair(path)).publicKey).toEqual(second.publicKey)
})

test('a key file readable by others is refused', async () => {
  // Goal: like ssh, a private key with loose permissions is an error, not a warning.
  const path = join(await temp.dir(), 'key.json')
  await saveKeyPair(path, KeyPair.generate())
  await chmod(path, 0o644)
  await expect(loadKeyPair(path)).rejects.toMatchObject({ name: 'KeyFilePermissionsError' })
})

test('a missing key file has its own error', async () => {
  // Goal: the daemon can tell "no key yet" from "bad key".
  await expect(loadKeyPair(join(await temp.dir(), 'none.json'))).rejects.toMatchObject({
    name: 'KeyFileNotFoundError'
  })
})

test('malformed key files are refused with InvalidKeyFileError', async () => {
  // Goal: every kind of damaged file gives one typed error.
  const keys = KeyPair.generate()
  const good = JSON.parse(
    await (async () => {
      const path = join(await temp.dir(), 'good.json')
      await saveKeyPair(path, keys)
      return readFile(path, 'utf8')
    })()
  ) as Record<string, unknown>
  const cases = [
    'not json',
    '[]',
    JSON.stringify({ ...good, type: 'other' }),
    JSON.stringify({ ...good, version: 2 }),
    JSON.stringify({ ...good, seed: 'ab' }),
    JSON.stringify({ ...good, publicKey: 'AB'.repeat(32) }),
    JSON.stringify({ ...good, publicKey: '00'.repeat(32) }),
    'x'.repeat(5000)
  ]
  for (const text of cases) {
    const path = join(await temp.dir(), 'key.json')
    await writeFile(path, text, { mode: 0o600 })
    await expect(loadKeyPair(path)).rejects.toMatchObject({ name: 'InvalidKeyFileError' })
  }
})
