#!/usr/bin/env node
/**
 * The daemon's entry point (`ivy init|daemon|join` run it; so can a service manager):
 *   main.js init   [--data DIR] [--lock-mode strict|available] [--listen ADDR]… [--no-mdns]
 *   main.js run    [--data DIR] [--mount DIR] [--listen ADDR]… [--bootstrap ADDR]… [--no-bootstrap] [--no-mdns]
 *   main.js join   TICKET [--data DIR] [--listen ADDR]… [--no-mdns] [--timeout-ms N]
 *   main.js unmount DIR          (frees a mount left by a killed daemon)
 * Logs go to stderr; the one result line of init/join goes to stdout as JSON.
 */
import '@ivyfs/net' // loads the Promise.withResolvers polyfill before libp2p (Node 20)
import { forceUnmount } from '@ivyfs/fuse'
import { parseArgs } from 'node:util'
import { Daemon } from './daemon.js'
import { dataPaths } from './data-dir.js'
import { createLogger, isLogLevel, type Logger, type LogLevel } from './logger.js'
import { initDataDir, joinDataDir } from './setup.js'

const OPTIONS = {
  data: { type: 'string' },
  mount: { type: 'string' },
  listen: { type: 'string', multiple: true },
  bootstrap: { type: 'string', multiple: true },
  'no-mdns': { type: 'boolean' },
  'no-bootstrap': { type: 'boolean' },
  'lock-mode': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'timeout-ms': { type: 'string' }
} as const

/** Exit codes shared with the CLI (see README): 1 failed, 2 usage. */
const EXIT_FAILED = 1
const EXIT_USAGE = 2

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  let parsed
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    process.stderr.write(`ivyfs: ${(err as Error).message}\n`)
    return EXIT_USAGE
  }
  const { values, positionals } = parsed
  const level = values['log-level'] ?? process.env['IVYFS_LOG_LEVEL'] ?? 'info'
  if (!isLogLevel(level)) {
    process.stderr.write(`ivyfs: --log-level must be debug, info, warn or error\n`)
    return EXIT_USAGE
  }
  const logger = createLogger({
    level: level as LogLevel,
    format: values['log-format'] === 'json' ? 'json' : 'text'
  })
  const paths = dataPaths(values.data)
  const mdns = values['no-mdns'] === true ? false : undefined
  const listen = values.listen ?? []
  switch (command) {
    case 'init': {
      const lockMode = values['lock-mode'] ?? 'strict'
      if (lockMode !== 'strict' && lockMode !== 'available') {
        process.stderr.write('ivyfs: --lock-mode must be strict or available\n')
        return EXIT_USAGE
      }
      const config = await initDataDir(
        paths,
        { lockMode, listen, ...(mdns === undefined ? {} : { mdns }) },
        logger
      )
      process.stdout.write(JSON.stringify({ fsId: config.fsId, dataDir: paths.dir }) + '\n')
      return 0
    }
    case 'join': {
      const ticket = positionals[0]
      if (ticket === undefined) {
        process.stderr.write('ivyfs: join needs a TICKET (from `ivy invite` on a member)\n')
        return EXIT_USAGE
      }
      const timeout = values['timeout-ms'] === undefined ? undefined : Number(values['timeout-ms'])
      const config = await joinDataDir(
        paths,
        ticket,
        {
          listen,
          ...(mdns === undefined ? {} : { mdns }),
          ...(timeout === undefined ? {} : { timeoutMs: timeout })
        },
        logger
      )
      process.stdout.write(JSON.stringify({ fsId: config.fsId, dataDir: paths.dir }) + '\n')
      return 0
    }
    case 'run':
      return await run(logger, {
        dataDir: paths.dir,
        logger,
        listen,
        // --bootstrap replaces the config's peers for this run; --no-bootstrap runs with none at all.
        ...(values['no-bootstrap'] === true
          ? { bootstrap: [] }
          : values.bootstrap === undefined
            ? {}
            : { bootstrap: values.bootstrap }),
        ...(mdns === undefined ? {} : { mdns }),
        ...(values.mount === undefined ? {} : { mount: values.mount })
      })
    case 'unmount': {
      const dir = positionals[0]
      if (dir === undefined) {
        process.stderr.write('ivyfs: unmount needs a DIR\n')
        return EXIT_USAGE
      }
      const freed = await forceUnmount(dir)
      process.stdout.write(JSON.stringify({ mountPoint: dir, unmounted: freed }) + '\n')
      return 0
    }
    default:
      process.stderr.write(`ivyfs: unknown command ${command ?? '(none)'}: use init, run, join or unmount\n`)
      return EXIT_USAGE
  }
}

async function run(logger: Logger, init: Parameters<typeof Daemon.start>[0]): Promise<number> {
  const daemon = await Daemon.start(init)
  return await new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info(`${signal}: shutting down`)
      void daemon.stop().then(() => resolve(0))
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
    // A bug (assertion) anywhere: say so, unmount so no program hangs on a dead mount, exit non-zero.
    const fatal = (err: unknown): void => {
      logger.error('fatal error; unmounting and exiting', { err, stack: (err as Error)?.stack })
      void daemon.stop().then(() => resolve(EXIT_FAILED))
    }
    process.once('uncaughtException', fatal)
    process.once('unhandledRejection', fatal)
  })
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err))
    const typed = 'data' in error || 'errno' in error
    process.stderr.write(`ivyfs: ${error.message}\n`)
    if (!typed) process.stderr.write(`${error.stack ?? ''}\n`)
    process.stdout.write(JSON.stringify({ error: { name: error.name, message: error.message } }) + '\n')
    process.exit(EXIT_FAILED)
  }
)
