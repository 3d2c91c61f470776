// Child process of bench/visibility.mjs: never the daemon's own process (touching a mount from the
// process serving it deadlocks). `write FILE N`: writes N versions of FILE, one every 20-50 ms, each
// one byte longer than the one before (so a stale cached size would cut the read short), and prints
// `{ "i", "t" }` when each close has returned. `watch FILE N`: reads FILE in a loop and prints
// `{ "i", "t" }` the first time it reads version i whole. Times are ms since the epoch with
// sub-millisecond precision (performance.timeOrigin + now), comparable between processes.
import { readFileSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

const [, , mode, file, count] = process.argv
const versions = Number(count)
const now = () => performance.timeOrigin + performance.now()
/** Version i: its number, then padding to 16 + i bytes. */
export const version = (i) => `${i}:`.padEnd(16 + i, 'x')

if (mode === 'write') {
  for (let i = 1; i <= versions; i++) {
    writeFileSync(file, version(i))
    console.log(JSON.stringify({ i, t: now() }))
    await sleep(20 + Math.random() * 30)
  }
} else if (mode === 'watch') {
  let next = 1
  const deadline = Date.now() + versions * 60 + 30_000
  while (next <= versions && Date.now() < deadline) {
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      // not there yet
    }
    const seen = Number(text.slice(0, text.indexOf(':')))
    if (seen >= next && text === version(seen)) {
      const t = now()
      for (; next <= seen; next++) if (next === seen) console.log(JSON.stringify({ i: seen, t }))
    }
    await sleep(0.5)
  }
}
