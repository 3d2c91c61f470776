/**
 * Node 20 has no Promise.withResolvers, and libp2p, yamux, noise, it-queue and mortice call it at
 * start-up. Import this module before libp2p in every entry point (Node 22+ needs nothing).
 */
interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const PromiseWith = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof PromiseWith.withResolvers !== 'function') {
  PromiseWith.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}

export {}
