/** Event-driven waiting: conditions are re-checked on view changes, never by polling. */

/**
 * Resolves true as soon as `condition()` holds (checked now and after every change that
 * `subscribe` reports), false when `timeoutMs` runs out first.
 */
export function waitFor(
  subscribe: (listener: () => void) => () => void,
  condition: () => boolean,
  timeoutMs: number
): Promise<boolean> {
  if (condition()) return Promise.resolve(true)
  if (!(timeoutMs > 0)) return Promise.resolve(false)
  return new Promise((resolve) => {
    let done = false
    const finish = (value: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      unsubscribe()
      resolve(value)
    }
    const unsubscribe = subscribe(() => {
      if (condition()) finish(true)
    })
    const timer = setTimeout(() => finish(condition()), timeoutMs)
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
