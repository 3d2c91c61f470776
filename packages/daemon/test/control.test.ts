import { mkdtemp, rm, stat } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { ControlClient } from '../src/control-client.js'
import { ControlServer } from '../src/control-server.js'
import { CONTROL_LINE_BYTES_MAX } from '../src/constants.js'
import { BadParamsError } from '../src/errors.js'
import { createLogger } from '../src/logger.js'

const quiet = createLogger({ level: 'error', write: () => undefined })

describe('control socket', () => {
  let dir: string
  let server: ControlServer | undefined

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ivy-control-'))
  })
  afterEach(async () => {
    await server?.close()
    server = undefined
    await rm(dir, { recursive: true, force: true })
  })

  async function start(): Promise<string> {
    const path = join(dir, 'control.sock')
    server = await ControlServer.listen({
      path,
      logger: quiet,
      handlers: {
        echo: async (params) => params,
        fail: async () => {
          throw new BadParamsError('fail', 'always fails')
        },
        watch: async (_params, { emit }) => {
          for (let i = 0; i < 3; i++) emit({ n: i })
          return 'done'
        }
      }
    })
    return path
  }

  test('answers a request and keeps the socket private (0600)', async () => {
    // Goal: the CLI gets exactly what the handler returned, and only the owner can connect.
    const path = await start()
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const client = await ControlClient.connect(path)
    expect(await client.call('echo', { a: 1, s: 'x' })).toEqual({ a: 1, s: 'x' })
    client.close()
  })

  test('carries typed errors by name, and refuses unknown methods', async () => {
    // Goal: scripts can rely on the error class crossing the socket.
    const client = await ControlClient.connect(await start())
    await expect(client.call('fail')).rejects.toMatchObject({ name: 'BadParamsError' })
    await expect(client.call('nope')).rejects.toMatchObject({ name: 'UnknownMethodError' })
    await expect(client.call('__proto__')).rejects.toMatchObject({ name: 'UnknownMethodError' })
    client.close()
  })

  test('delivers events before the answer of a watching method', async () => {
    // Goal: `ivy conflicts --watch` sees each event in order.
    const client = await ControlClient.connect(await start())
    const events: unknown[] = []
    expect(await client.call('watch', {}, { onEvent: (e) => events.push(e) })).toBe('done')
    expect(events).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
    client.close()
  })

  test('survives garbage and an oversized line from a client', async () => {
    // Goal: a broken client cannot take the daemon down; others are still served.
    const path = await start()
    const raw = connect(path)
    await new Promise((resolve) => raw.once('connect', resolve))
    const answers: string[] = []
    raw.on('data', (chunk: Buffer) => answers.push(chunk.toString()))
    raw.on('error', () => undefined) // EPIPE once the daemon hangs up mid-write
    raw.write('not json\n{"id":"x"}\n')
    raw.write(Buffer.alloc(CONTROL_LINE_BYTES_MAX + 10, 0x41))
    await new Promise((resolve) => raw.once('close', resolve))
    expect(answers.join('')).toContain('ControlProtocolError')
    const client = await ControlClient.connect(path)
    expect(await client.call('echo', { ok: true })).toEqual({ ok: true })
    client.close()
  })

  test('says the daemon is not running when nothing listens', async () => {
    // Goal: the CLI can print a clear message and exit 3.
    await expect(ControlClient.connect(join(dir, 'absent.sock'))).rejects.toMatchObject({
      name: 'DaemonNotRunningError'
    })
  })
})
