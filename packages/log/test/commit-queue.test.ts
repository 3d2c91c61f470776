import { expect, test } from 'vitest'
import { CommitQueue } from '../src/commit-queue.js'

/** A commit function that records its groups and can be held open until released. */
function recorder(): {
  groups: number[][]
  commit: (group: number[]) => Promise<number[]>
  release: () => void
  hold: () => void
} {
  const groups: number[][] = []
  let gate: Promise<void> | undefined
  let open: () => void = () => {}
  return {
    groups,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve))
    },
    release: () => open(),
    commit: async (group) => {
      groups.push(group)
      await gate
      return []
    }
  }
}

test('jobs pushed in one tick share one commit', async () => {
  // Goal: Promise.all of appends costs one batch (one fsync), not one each.
  const r = recorder()
  const queue = new CommitQueue<number>(r.commit)
  for (let i = 0; i < 10; i++) queue.push(i)
  await queue.idle()
  expect(r.groups).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
})

test('jobs pushed while a commit is in flight form the next group, in order', async () => {
  // Goal: group commit: waiting jobs ride together on the next batch.
  const r = recorder()
  const queue = new CommitQueue<number>(r.commit)
  r.hold()
  queue.push(1)
  await Promise.resolve()
  await Promise.resolve()
  queue.push(2)
  queue.push(3)
  r.release()
  await queue.idle()
  expect(r.groups).toEqual([[1], [2, 3]])
})

test('jobs a commit leaves over go first into the next group', async () => {
  // Goal: a group cut short by the byte bound loses and reorders nothing.
  const groups: number[][] = []
  const queue = new CommitQueue<number>(async (group) => {
    groups.push(group)
    return group.slice(2)
  })
  for (let i = 0; i < 5; i++) queue.push(i)
  await queue.idle()
  expect(groups).toEqual([[0, 1, 2, 3, 4], [2, 3, 4], [4]])
})

test('idle resolves at once when nothing is queued', async () => {
  // Goal: close() on an idle store does not wait.
  await expect(new CommitQueue<number>(async () => []).idle()).resolves.toBeUndefined()
})
