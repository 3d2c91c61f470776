/**
 * `ivy` with wrong arguments, with no daemon and with no filesystem: a clear message on stderr
 * (or a JSON error with --json) and the documented exit code, before anything is tried.
 * Unknown conflict and record ids against a live daemon are in cli-commands and cli-conflicts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { ivy, type RunResult } from '../helpers/daemon-process.js'

const COMMANDS = [
  ['init'],
  ['daemon'],
  ['join'],
  ['invite'],
  ['status'],
  ['peers'],
  ['members'],
  ['mount'],
  ['unmount'],
  ['log'],
  ['conflicts'],
  ['conflicts', 'show'],
  ['resolve']
]

function expectError(result: RunResult, code: number, message: RegExp): void {
  expect(result.code, result.stdout + result.stderr).toBe(code)
  expect(result.stderr).toMatch(message)
  expect(result.stdout).toBe('')
}

describe('ivy refuses clearly, with the documented exit codes', () => {
  let fresh: string

  beforeEach(async () => {
    fresh = await mkdtemp(join(tmpdir(), 'ivy-cli-errors-'))
  })

  afterEach(async () => {
    await rm(fresh, { recursive: true, force: true })
  })

  test('every command has --help with an example, the global options and exit 0', async () => {
    // Goal: help is complete everywhere: a usage line, an example, --data/--json, and the exit codes at the top.
    const results = await Promise.all(COMMANDS.map((command) => ivy([...command, '--help'])))
    results.forEach((result, i) => {
      const command = (COMMANDS[i] as string[]).join(' ')
      expect(result.code, command).toBe(0)
      expect(result.stdout, command).toContain(`Usage: ivy ${command}`)
      expect(result.stdout, command).toMatch(/\nExample:\n {2}ivy /)
      expect(result.stdout, command).toContain('--json')
      expect(result.stdout, command).toContain('--data <dir>')
    })
    const top = await ivy(['--help'])
    expect(top.code).toBe(0)
    expect(top.stdout).toMatch(/Exit codes:[\s\S]*3 no daemon[\s\S]*5 no filesystem/)
    for (const command of COMMANDS) expect(top.stdout).toContain(`\n  ${command[0]}`)
    expect((await ivy(['help', 'resolve'])).stdout).toContain('Usage: ivy resolve')
  })

  test('wrong arguments exit 2 with a message saying what is wrong, before any daemon is asked', async () => {
    // Goal: usage errors are told apart from failures: exit 2, nothing tried (no daemon runs here, which would be exit 5).
    const data = ['--data', fresh]
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage: ivy/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['status', '--bogus'], /unknown option '--bogus'/],
      [['mount'], /missing required argument 'dir'/],
      [['join'], /missing required argument 'ticket'/],
      [['join', 'not-a-ticket'], /not an ivyfs ticket/],
      [['init', '--lock-mode', 'loose'], /--lock-mode.*loose.*strict, available/],
      [['invite', '--ttl', 'forever'], /--ttl takes a duration/],
      [['status', '--wait', '--timeout', 'soon'], /--timeout takes a number of seconds/],
      [['log', '--limit', '0'], /--limit takes a positive integer/],
      [['log', '--since', 'yesterday'], /--since: not a time: yesterday/],
      [['log', '--author', 'xyz'], /--author takes a participant key/],
      [['log', 'notes.txt'], /paths inside the filesystem start with \//],
      [['conflicts', 'show', 'zz'], /not a conflict id: zz/],
      [['conflicts', 'show', '3fa1c2', '--side', 'left'], /--side takes ours, theirs or base/],
      [['resolve', '3fa1c2'], /say what to keep/],
      [['resolve', '3fa1c2', '--keep', 'maybe'], /--keep takes ours, theirs or a record id/],
      [['resolve', 'abc', '--keep', 'ours'], /not a conflict id: abc/],
      [['resolve', '3fa1c2', '--keep', 'ours', '--from', 'merged.txt'], /give --keep or --from, not both/],
      [['resolve', '--keep', 'ours'], /give a conflict ID/],
      [['resolve', '3fa1c2', '--all', '--keep', 'ours'], /--all resolves every open conflict: give no ID/],
      [['resolve', '--all', '--keep', '3fa1c2'], /--all goes with --keep ours or --keep theirs/],
      [['resolve', '3fa1c2', '--from', join(fresh, 'no-such-file')], /--from: cannot read/]
    ]
    const results = await Promise.all(cases.map(([args]) => ivy([...data, ...args])))
    results.forEach((result, i) => {
      const [args, message] = cases[i] as [string[], RegExp]
      expect(result.code, `ivy ${args.join(' ')}: ${result.stderr}`).toBe(2)
      expect(result.stderr, `ivy ${args.join(' ')}`).toMatch(message)
    })
    const json = await ivy([...data, 'status', '--bogus', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      error: { name: 'UsageError', message: "unknown option '--bogus'", exitCode: 2 }
    })
    const thrown = await ivy([...data, 'log', '--limit', 'x', '--json'])
    expect(JSON.parse(thrown.stdout)).toEqual({
      error: { name: 'UsageError', message: '--limit takes a positive integer', exitCode: 2 }
    })
  })

  test('no filesystem in the data directory exits 5; no daemon on an initialised one exits 3', async () => {
    // Goal: scripts can tell "run ivy init/join" from "start the daemon", in text and in JSON.
    const data = ['--data', fresh]
    const commands = [
      ['daemon', '--no-mdns'],
      ['status'],
      ['peers'],
      ['members'],
      ['invite'],
      ['log'],
      ['conflicts'],
      ['conflicts', 'show', '3fa1c2'],
      ['resolve', '3fa1c2', '--keep', 'ours'],
      ['mount', fresh]
    ]
    const results = await Promise.all(commands.map((command) => ivy([...data, ...command])))
    for (const result of results)
      expectError(result, 5, new RegExp(`no filesystem in ${fresh}.*ivy init.*ivy join`))
    const json = await ivy([...data, 'status', '--json'])
    expect(json.code).toBe(5)
    expect(JSON.parse(json.stdout)).toEqual({
      error: { name: 'NotInitialisedError', message: expect.stringContaining('ivy init'), exitCode: 5 }
    })
    expectError(await ivy([...data, 'conflicts', '--watch']), 5, /no filesystem/)

    const initialised = await ivy([...data, 'init', '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'])
    expect(initialised.code, initialised.stderr).toBe(0)
    const stopped = await Promise.all(
      [['status'], ['conflicts'], ['log', '/x']].map((command) => ivy([...data, ...command]))
    )
    for (const result of stopped) expectError(result, 3, /no daemon is running .*ivy daemon/)
    const stoppedJson = await ivy([...data, 'peers', '--json'])
    expect(stoppedJson.code).toBe(3)
    expect(JSON.parse(stoppedJson.stdout)).toMatchObject({
      error: { name: 'DaemonNotRunningError', exitCode: 3 }
    })
    expectError(await ivy([...data, 'unmount']), 2, /no daemon is running: say which DIR/)
  })
})
