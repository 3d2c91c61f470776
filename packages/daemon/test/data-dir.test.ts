import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { defaultConfig, loadConfig, saveConfig } from '../src/config.js'
import { dataPaths, ensureDataDir, lockDataDir } from '../src/data-dir.js'

describe('data directory', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ivy-data-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('a second owner of one data directory is refused while the first lives', async () => {
    // Goal: two daemons never share one store.
    const paths = dataPaths(dir)
    await ensureDataDir(paths)
    const release = await lockDataDir(paths)
    // A live process other than us holding the lock:
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'])
    try {
      await writeFile(paths.pid, `${child.pid}\n`)
      await expect(lockDataDir(paths)).rejects.toMatchObject({ name: 'DaemonRunningError' })
    } finally {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
    // Its process is gone now: the lock is stale and is taken over.
    const again = await lockDataDir(paths)
    expect((await readFile(paths.pid, 'utf8')).trim()).toBe(String(process.pid))
    await again()
    await release()
  })

  test('config round-trips and bad configs name their problem', async () => {
    // Goal: a hand-edited config cannot start a daemon with nonsense.
    const paths = dataPaths(dir)
    const config = defaultConfig('ab'.repeat(32))
    await saveConfig(paths.config, config)
    expect(await loadConfig(paths.config, dir)).toEqual(config)
    await writeFile(paths.config, JSON.stringify({ ...config, listen: 'x' }))
    await expect(loadConfig(paths.config, dir)).rejects.toMatchObject({ name: 'ConfigError' })
    await writeFile(paths.config, '{')
    await expect(loadConfig(paths.config, dir)).rejects.toMatchObject({ name: 'ConfigError' })
    await rm(paths.config)
    await expect(loadConfig(paths.config, dir)).rejects.toMatchObject({ name: 'NotInitialisedError' })
  })
})
