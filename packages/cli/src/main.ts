#!/usr/bin/env node
/** `ivy`: the command-line interface of ivyfs (commands in program.ts; exit codes in exit-codes.ts). */
import { CommanderError } from 'commander'
import { EXIT } from './exit-codes.js'
import { createOutput } from './output.js'
import { buildProgram } from './program.js'

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok
  const program = buildProgram((code) => (exitCode = code))
  const json = argv.includes('--json')
  try {
    await program.parseAsync(argv)
    return exitCode
  } catch (err) {
    if (!(err instanceof CommanderError)) return createOutput(json).error(err)
    // Help asked for (exit 0), or help shown because something was missing or wrong (usage).
    if (err.exitCode === 0) return EXIT.ok
    // Commander has printed its message on stderr; with --json, stdout gets the error as data too.
    if (json)
      process.stdout.write(
        JSON.stringify({
          error: { name: 'UsageError', message: err.message.replace(/^error: /, ''), exitCode: EXIT.usage }
        }) + '\n'
      )
    return EXIT.usage
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ivy: ${String(err)}\n`)
    process.exit(EXIT.failed)
  }
)
