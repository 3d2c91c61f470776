// Process plumbing shared by the benchmarks: children started and stopped by PID, their JSON
// result line, RSS figures from /proc, the page cache, small waits.
import { execFile, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'

export const quick = process.argv.includes('--quick')

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Current and peak resident set of a process, in MB (VmRSS, VmHWM), or undefined once gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rssMB: (kb('VmRSS') * 1024) / 1e6, peakMB: (kb('VmHWM') * 1024) / 1e6 }
  } catch {
    return undefined
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0; root or owner). */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** Samples a process's RSS every `ms` until stopped; returns the highest sample. */
export function rssSampler(pid, ms = 50) {
  let max = 0
  const timer = setInterval(() => {
    const m = memoryOf(pid)
    if (m !== undefined && m.rssMB > max) max = m.rssMB
  }, ms)
  return {
    stop() {
      clearInterval(timer)
      const m = memoryOf(pid)
      if (m !== undefined && m.rssMB > max) max = m.rssMB
      return max
    }
  }
}

/** Drops the page cache (root only): reads after this come from the disk. */
export async function dropCaches() {
  await run('sync', [])
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3')
    return true
  } catch {
    return false
  }
}

/** Runs a program to completion; rejects with its stderr unless it exits 0 (or `allowFail`). */
export function run(file, args, { env, timeoutMs = 600_000, allowFail = false, cwd } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        env: { ...process.env, ...env },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 256 * 1024 * 1024,
        cwd
      },
      (err, stdout, stderr) => {
        if (err !== null && !allowFail) {
          reject(
            new Error(
              `${file} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stderr}\n${stdout}`.slice(
                0,
                4000
              )
            )
          )
        } else resolve({ code: err === null ? 0 : (err.code ?? 1), stdout, stderr })
      }
    )
  })
}

/** A node child whose last stdout line is a JSON result; stderr passes through (progress). */
export function nodeChild(script, args, { env, execArgv = [], onSpawn } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit']
    })
    onSpawn?.(child)
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      const lines = stdout.trim().split('\n')
      const last = lines[lines.length - 1]
      if (code !== 0)
        return reject(
          new Error(`${script} ${args.join(' ')} exited ${code ?? signal}\n${stdout.slice(-2000)}`)
        )
      try {
        resolve(JSON.parse(last))
      } catch {
        reject(new Error(`${script} ${args.join(' ')}: no JSON result\n${stdout.slice(-2000)}`))
      }
    })
  })
}

/** Stops a child by PID: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(child, graceMs = 15_000) {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    process.kill(child.pid, 'SIGTERM')
  } catch {
    return
  }
  const timer = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {}
  }, graceMs)
  await exited
  clearTimeout(timer)
}

/** Polls `fn` until it returns something other than undefined (errors count as not yet). */
export async function waitFor(what, fn, { timeoutMs = 60_000, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs
  let lastError
  for (;;) {
    try {
      const value = await fn()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`
      )
    await sleep(intervalMs)
  }
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

export const now = () => performance.timeOrigin + performance.now()

export const log = (...parts) => process.stderr.write(`  ${parts.join(' ')}\n`)
