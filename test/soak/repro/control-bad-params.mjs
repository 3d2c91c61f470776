#!/usr/bin/env node
// Reproduction (found by the control-socket fuzzing of reliability-fuzz-control.test.ts): control methods
// let bad parameters through to code that throws errors the control server does not expect; it
// logs each as "control handler failed unexpectedly" (with a stack: a bug) instead of answering a
// typed refusal (BadParamsError, or an FsError with an errno). Starts a throwaway daemon (stopped by
// its PID at the end). Run `npx tsc -b` first.
//   invite {addresses: ["nonsense"]}           -> was InvalidMultiaddrError; BadParamsError since 55d19fe
//   invite {addresses: ["/ip4/1.2.3.4/tcq/1"]} -> was UnknownProtocolError (the same library, another name)
//   invite {ttlMs: 9007199254740991}           -> was InvalidTicketError: the daemon issued (and stored in
//                                                its ticket book) a ticket whose expiry it cannot decode
//   fs.symlink {target: "/\u0000", path: "/x"} -> was InvalidOpError from packages/log (no errno): the fs
//                                                layer does not check the target before building the op
// Fixed: the invite handler checks ttlMs against INVITE_TTL_MS_MAX, and createTicket encodes the
// addresses into a probe ticket before its book stores one (BadParamsError, nothing stored);
// Filesystem.symlink refuses a NUL in the target as InvalidError (EINVAL). Expected output now: three BadParamsError lines, one
// "InvalidError (EINVAL)" line, and 0 x "control handler failed unexpectedly".
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { callDaemon } from '../../../packages/daemon/dist/index.js'

const main = fileURLToPath(new URL('../../../packages/daemon/dist/main.js', import.meta.url))
const data = mkdtempSync(join(tmpdir(), 'ivyfs-repro-invite-'))
const init = spawnSync(process.execPath, [
  main,
  'init',
  '--data',
  data,
  '--no-mdns',
  '--listen',
  '/ip4/127.0.0.1/tcp/0'
])
if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`)
const daemon = spawn(
  process.execPath,
  [main, 'run', '--data', data, '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0'],
  { stdio: ['ignore', 'ignore', 'pipe'] }
)
let log = ''
daemon.stderr.on('data', (chunk) => (log += chunk))
const socket = join(data, 'control.sock')
try {
  for (let i = 0; ; i++) {
    try {
      await callDaemon(socket, 'status')
      break
    } catch (err) {
      if (i > 200) throw err
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const requests = [
    ['invite', { addresses: ['nonsense'] }],
    ['invite', { addresses: ['/ip4/1.2.3.4/tcq/1'] }],
    ['invite', { ttlMs: Number.MAX_SAFE_INTEGER }],
    ['fs.symlink', { target: '/\u0000', path: '/x' }]
  ]
  for (const [method, params] of requests) {
    const answer = await callDaemon(socket, method, params).then(
      () => 'answered',
      (err) => `${err.name}${err.errno === undefined ? '' : ` (${err.errno})`}: ${err.message}`
    )
    console.log(`${method} ${JSON.stringify(params)} -> ${answer}`)
  }
  const unexpected = log.split('\n').filter((line) => line.includes('failed unexpectedly')).length
  console.log(`daemon log: ${unexpected} x "control handler failed unexpectedly"`)
} finally {
  const exited = new Promise((resolve) => daemon.once('exit', resolve))
  process.kill(daemon.pid, 'SIGTERM')
  await exited
  rmSync(data, { recursive: true, force: true })
}
