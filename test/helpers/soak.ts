/**
 * Shared plumbing of the reliability suites (test/scenarios/reliability-*.test.ts): a seeded PRNG,
 * the trial count and seed (short defaults under `npm test`; `node test/soak/NAME.mjs [trials] [seed]`
 * sets IVYFS_SOAK_TRIALS and IVYFS_SOAK_SEED), the one-line summary each suite prints, and the
 * seed and rerun command attached to every failure.
 */
import { createCipheriv } from 'node:crypto'
import { appendFileSync } from 'node:fs'

export interface SoakParams {
  trials: number
  seed: number
  /** True when run by a soak script (long run: no per-test timeout). */
  soak: boolean
}

/** Trials and seed for this run: the environment's if a soak script set them, else the short defaults. */
export function soakParams(defaults: { trials: number; seed?: number }): SoakParams {
  const trials = Number(process.env['IVYFS_SOAK_TRIALS'] ?? defaults.trials)
  const seed = Number(process.env['IVYFS_SOAK_SEED'] ?? defaults.seed ?? 1)
  if (!Number.isSafeInteger(trials) || trials < 1)
    throw new Error(`IVYFS_SOAK_TRIALS must be a positive integer`)
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`IVYFS_SOAK_SEED must be a non-negative integer`)
  return { trials, seed, soak: process.env['IVYFS_SOAK_TRIALS'] !== undefined }
}

/** A small, fast, seeded PRNG (sfc32 seeded through splitmix32): the same seed gives the same run. */
export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(readonly seed: number) {
    let state = seed >>> 0
    const splitmix = (): number => {
      state = (state + 0x9e3779b9) >>> 0
      let z = state
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = splitmix()
    this.b = splitmix()
    this.c = splitmix()
    this.d = splitmix()
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** An independent generator for one part of a run (so adding draws elsewhere does not shift it). */
  fork(label: string | number): Prng {
    let hash = this.seed ^ 0x5bd1e995
    for (const char of String(label)) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0
    return new Prng(hash >>> 0)
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 0x1_0000_0000
  }

  /** Uniform integer in [0, max). */
  int(max: number): number {
    return Math.floor(this.next() * max)
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(items.length)] as T
  }

  /** Seeded bytes: AES-128-CTR keyed by four draws (fast enough for megabytes of file data). */
  bytes(length: number): Uint8Array {
    const key = Buffer.alloc(16)
    for (let i = 0; i < 4; i++) key.writeUInt32LE(this.uint32(), i * 4)
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
    return new Uint8Array(Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]))
  }

  /** A random subset of `items` with `count` elements, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items]
    const out: T[] = []
    while (out.length < count && pool.length > 0) out.push(pool.splice(this.int(pool.length), 1)[0] as T)
    return out
  }
}

/**
 * Prints the suite's one-line summary (what it tried, what it found) and, under a soak script,
 * appends it to the file the script prints at the end.
 */
export function reportSummary(suite: string, summary: Record<string, number | string>): string {
  const line = `${suite}: ${Object.entries(summary)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')}`
  console.log(line)
  const file = process.env['IVYFS_SOAK_SUMMARY']
  if (file !== undefined && file !== '') appendFileSync(file, line + '\n')
  return line
}

/** Runs `body`; a failure is rethrown with the seed and the command that reruns it. */
export async function withSeed<T>(script: string, params: SoakParams, body: () => Promise<T>): Promise<T> {
  try {
    return await body()
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err))
    error.message = `${error.message}\n[seed ${params.seed}, ${params.trials} trials; rerun: node test/soak/${script}.mjs ${params.trials} ${params.seed}]`
    throw error
  }
}

/** A progress line, printed only under a soak script (npm test stays quiet). */
export function progress(params: SoakParams, line: string): void {
  if (params.soak) console.log(line)
}
