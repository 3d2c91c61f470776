/** The `ivy` command line: commands, options, help texts (commander). main.ts runs it. */
import { Command, Option } from 'commander'
import { conflictsCommand, resolveCommand, showCommand } from './commands/conflicts.js'
import { logCommand } from './commands/log.js'
import {
  daemonCommand,
  initCommand,
  inviteCommand,
  joinCommand,
  mountCommand,
  unmountCommand
} from './commands/setup.js'
import { membersCommand, peersCommand, statusCommand } from './commands/status.js'
import { context, type GlobalOptions } from './context.js'
import { EXIT } from './exit-codes.js'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function example(text: string): string {
  return `\nExample:\n  ${text}\n`
}

function withNetworkFlags(command: Command): Command {
  return command
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', collect)
    .option('--bootstrap <multiaddr>', 'peer to dial and keep dialling (repeatable)', collect)
    .option('--no-mdns', 'do not discover peers on the LAN')
    .option('--log-level <level>', 'debug, info, warn or error')
}

const EXIT_CODES_HELP = `
Exit codes:
  0 done            1 tried and failed        2 wrong arguments (nothing tried)
  3 no daemon       4 conflict, record or path not found
  5 no filesystem in the data directory (ivy init or ivy join first)

Every command takes --json (field names in docs/CLI.md) and --help (with an example).`

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('ivy')
    .description('ivyfs: a peer-to-peer filesystem of signed per-machine logs')
    .option('--data <dir>', 'data directory (default ~/.ivyfs or $IVYFS_DATA)')
    .option('--json', 'machine-readable output (errors too: {"error": {...}} on stdout)')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage and an example)')
    .exitOverride()
    .addHelpText('after', `${EXIT_CODES_HELP}\n${example('ivy status')}`)
  const run = (action: (ctx: ReturnType<typeof context>, ...args: never[]) => Promise<unknown>) =>
    async function (this: Command, ...args: unknown[]): Promise<void> {
      const ctx = context(this.optsWithGlobals<GlobalOptions>())
      const code = await action(ctx, ...(args.slice(0, -1) as never[]))
      setExit(typeof code === 'number' ? code : EXIT.ok)
    }

  withNetworkFlags(program.command('init'))
    .description('create a new filesystem in the data directory (this machine is its first member)')
    .addOption(
      new Option('--lock-mode <mode>', 'strict (majority) or available (decide locally)').choices([
        'strict',
        'available'
      ])
    )
    .addHelpText('after', example('ivy init --lock-mode strict'))
    .action(
      run((ctx, opts: { lockMode?: string; listen?: string[]; mdns?: boolean; logLevel?: string }) =>
        initCommand(ctx, opts)
      )
    )

  withNetworkFlags(program.command('daemon'))
    .description('run the peer daemon in the foreground (Ctrl-C unmounts and stops it)')
    .option('--mount <dir>', 'mount the filesystem on DIR')
    .addHelpText('after', example('ivy daemon --mount ~/ivyfs'))
    .action(run((ctx, opts: { mount?: string }) => daemonCommand(ctx, opts)))

  withNetworkFlags(program.command('join'))
    .description(
      'join a filesystem with a ticket from `ivy invite` (fresh data directory); shows progress on a terminal'
    )
    .argument('<ticket>', 'the ivy1-… ticket')
    .option('--timeout <seconds>', 'give up after this long (default 120)')
    .addHelpText('after', example('ivy join ivy1-… && ivy daemon --mount ~/ivyfs'))
    .action(run((ctx, ticket: string, opts: { timeout?: string }) => joinCommand(ctx, ticket, opts)))

  program
    .command('invite')
    .description('print a one-time ticket another machine can join with')
    .option('--ttl <duration>', 'how long it stays valid (30m, 12h, 7d; default 24h)')
    .option('--address <multiaddr>', 'address to put in the ticket (repeatable; default: ours)', collect)
    .addHelpText('after', example('ivy invite --ttl 1h'))
    .action(run((ctx, opts: { ttl?: string; address?: string[] }) => inviteCommand(ctx, opts)))

  program
    .command('status')
    .description('filesystem, members, peers, per-log lag, sync progress, conflicts, forks, mount')
    .option('--wait', 'first wait until caught up with the connected peers (a progress bar on a terminal)')
    .option('--timeout <seconds>', 'with --wait: give up after this long (default 300)')
    .addHelpText('after', example('ivy status --wait --timeout 60 --json'))
    .action(run((ctx, opts: { wait?: boolean; timeout?: string }) => statusCommand(ctx, opts)))
  program
    .command('peers')
    .description('connected and known peers with latency and lag')
    .addHelpText('after', example('ivy peers'))
    .action(run((ctx) => peersCommand(ctx)))
  program
    .command('members')
    .description('the participants of the filesystem')
    .addHelpText('after', example('ivy members --json'))
    .action(run((ctx) => membersCommand(ctx)))

  program
    .command('mount')
    .description('mount the filesystem of the running daemon')
    .argument('<dir>', 'an existing empty directory')
    .addHelpText('after', example('ivy mount ~/ivyfs'))
    .action(run((ctx, dir: string) => mountCommand(ctx, dir)))
  program
    .command('unmount')
    .description('unmount (or, with no daemon running, free a mount a killed daemon left)')
    .argument('[dir]', 'the mount point (needed only when no daemon runs)')
    .addHelpText('after', example('ivy unmount'))
    .action(run((ctx, dir: string | undefined) => unmountCommand(ctx, dir)))

  program
    .command('log')
    .description('records that touched PATH (or all), in merged order, with their ops in words')
    .argument('[path]', 'a path inside the filesystem, e.g. /notes.txt')
    .option('--author <key>', 'only records by this participant (a key prefix is enough)')
    .option('--since <time>', 'only records written since (ISO time, or 30m, 2h, 3d ago)')
    .option('--limit <n>', 'at most N records, the newest (default 200)')
    .addHelpText('after', example('ivy log /notes.txt --since 2d'))
    .action(
      run((ctx, path: string | undefined, opts: { author?: string; since?: string; limit?: string }) =>
        logCommand(ctx, path, opts)
      )
    )

  const conflicts = program
    .command('conflicts')
    .description('open conflicts: concurrent updates that collided, with both sides')
    .argument('[path]', 'only conflicts at or under PATH')
    .option('--watch', 'print conflicts as they appear, one line each (one JSON object per line with --json)')
    .option('--all', 'include resolved ones')
    .addHelpText('after', example('ivy conflicts /docs'))
    .action(
      run((ctx, path: string | undefined, opts: { watch?: boolean; all?: boolean }) =>
        conflictsCommand(ctx, path, opts)
      )
    )
  conflicts
    .command('show')
    .description(
      'one conflict: both versions (a diff for text, sizes and SHA-256 otherwise), the state before, the records involved'
    )
    .argument('<id>', 'conflict id (a unique prefix is enough)')
    .option('--side <side>', 'print only the raw bytes of ours, theirs or base (for merging by hand)')
    .addHelpText('after', example('ivy conflicts show 3fa1c2 --side theirs > theirs.txt'))
    .action(run((ctx, id: string, opts: { side?: string }) => showCommand(ctx, id, opts)))

  program
    .command('resolve')
    .description('close a conflict on every peer with a Resolve record')
    .argument('[id]', 'conflict id (a unique prefix is enough)')
    .option(
      '--keep <side>',
      'ours (what the tree shows), theirs (the hidden side) or a RECORD id of either side'
    )
    .option('--from <file>', 'use the content of FILE as the resolved version (a merge you made)')
    .option('--all', 'resolve every open conflict with --keep ours|theirs (asks first)')
    .option('--yes', 'do not ask (with --all)')
    .addHelpText('after', example('ivy resolve 3fa1c2 --keep theirs'))
    .action(
      run(
        (ctx, id: string | undefined, opts: { keep?: string; from?: string; all?: boolean; yes?: boolean }) =>
          resolveCommand(ctx, id, opts)
      )
    )

  return program
}
