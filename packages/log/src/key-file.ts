/**
 * The participant key on disk: a small JSON file, mode 0600, written atomically (temp file, fsync,
 * rename, fsync of the directory) so a crash leaves either the old key or the new one.
 */
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { KEY_FILE_BYTES_MAX } from './constants.js'
import { InvalidKeyFileError, KeyFileNotFoundError, KeyFilePermissionsError } from './errors.js'
import { bytesEqual, fromHex, toHex } from './bytes.js'
import { KeyPair } from './keys.js'

const KEY_FILE_TYPE = 'ivyfs-ed25519-key'
const KEY_FILE_VERSION = 1
const KEY_FILE_MODE = 0o600
/** Group and other permission bits: none may be set on a private key. */
const MODE_OTHERS_MASK = 0o077
const HEX_32 = /^[0-9a-f]{64}$/

interface KeyFileJson {
  type: string
  version: number
  seed: string
  publicKey: string
}

export async function saveKeyPair(path: string, keys: KeyPair): Promise<void> {
  const json: KeyFileJson = {
    type: KEY_FILE_TYPE,
    version: KEY_FILE_VERSION,
    seed: toHex(keys.seed),
    publicKey: toHex(keys.publicKey)
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const file = await open(temp, 'wx', KEY_FILE_MODE)
  try {
    await file.writeFile(JSON.stringify(json, null, 2) + '\n')
    await file.chmod(KEY_FILE_MODE) // the umask may have cleared bits, never added them; be exact
    await file.sync()
  } catch (err) {
    await file.close()
    await rm(temp, { force: true })
    throw err
  }
  await file.close()
  await rename(temp, path)
  await syncDirectory(dirname(path))
}

export async function loadKeyPair(path: string): Promise<KeyPair> {
  let mode: number
  let size: number
  try {
    const info = await stat(path)
    mode = info.mode
    size = info.size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyFileNotFoundError(path)
    throw err
  }
  if ((mode & MODE_OTHERS_MASK) !== 0) throw new KeyFilePermissionsError(path, mode & 0o777)
  if (size > KEY_FILE_BYTES_MAX)
    throw new InvalidKeyFileError(path, `larger than ${KEY_FILE_BYTES_MAX} bytes`)
  const json = parseKeyFile(path, await readFile(path, 'utf8'))
  const keys = KeyPair.fromSeed(fromHex(json.seed))
  if (!bytesEqual(keys.publicKey, fromHex(json.publicKey))) {
    throw new InvalidKeyFileError(path, 'public key does not match the seed')
  }
  return keys
}

function parseKeyFile(path: string, text: string): KeyFileJson {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidKeyFileError(path, 'not JSON')
  }
  if (typeof value !== 'object' || value === null) throw new InvalidKeyFileError(path, 'not an object')
  const json = value as Partial<Record<keyof KeyFileJson, unknown>>
  if (json.type !== KEY_FILE_TYPE) throw new InvalidKeyFileError(path, `type is not ${KEY_FILE_TYPE}`)
  if (json.version !== KEY_FILE_VERSION) throw new InvalidKeyFileError(path, `unsupported version`)
  if (typeof json.seed !== 'string' || !HEX_32.test(json.seed)) {
    throw new InvalidKeyFileError(path, 'seed is not 64 hex digits')
  }
  if (typeof json.publicKey !== 'string' || !HEX_32.test(json.publicKey)) {
    throw new InvalidKeyFileError(path, 'publicKey is not 64 hex digits')
  }
  return { type: json.type, version: json.version, seed: json.seed, publicKey: json.publicKey }
}

/** Makes a rename durable: the new directory entry is only on disk once the directory is synced. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
