// The run's state as repositories finish, saved as it goes: the state file often, a cache entry every
// few minutes, so a run that is killed loses at most what was in flight.
import { firstLineOf } from '../shared/errors.js'
import type { Log } from '../shared/log.js'
import type { RepositoryState, WorkspaceState } from './state.js'
import type { StateStore } from './store.js'
import { coded } from '../shared/codes.js'

export interface CheckpointPolicy {
  /** The state file is rewritten after this many finished repositories, or this long after a change. */
  fileEvery: { repositories: number; ms: number }
  /** A cache entry is saved this often while repositories change (each save is a new entry). */
  cacheEvery: { repositories: number; ms: number }
}

export const DEFAULT_CHECKPOINTS: CheckpointPolicy = {
  fileEvery: { repositories: 25, ms: 10_000 },
  cacheEvery: { repositories: 200, ms: 180_000 }
}

export interface StateBook {
  readonly states: WorkspaceState[]
  prior(workspace: string, uuid: string): RepositoryState | undefined
  /**
   * A repository finished: its new state is kept and saved at the next checkpoint. `fetched`: it
   * holds work worth a checkpoint (a transfer or an upload), not only the time it was checked.
   */
  record(state: RepositoryState, fetched: boolean): void
  /** A kept state changed after its repository finished (a group artifact was uploaded). */
  touched(workspace?: string): void
  /** Saves what changed: the file always, a cache entry when `toCache`. Never throws. */
  save(toCache: boolean): Promise<void>
  readonly checkpoints: number
}

export function createStateBook(
  store: StateStore,
  states: WorkspaceState[],
  options: {
    policy?: CheckpointPolicy
    log: Pick<Log, 'warning'>
    now?: () => number
  }
): StateBook {
  const policy = options.policy ?? DEFAULT_CHECKPOINTS
  const now = options.now ?? Date.now
  const byWorkspace = new Map(states.map(state => [state.workspace, state]))
  const dirty = new Set<string>()
  const uncached = new Set<string>()
  let sinceFile = 0
  let sinceCache = 0
  let fileAt = now()
  let cacheAt = now()
  let saving: Promise<void> = Promise.resolve()
  let checkpoints = 0

  async function write(toCache: boolean) {
    const workspaces = [...(toCache ? new Set([...dirty, ...uncached]) : dirty)]
    dirty.clear()
    if (toCache) uncached.clear()
    for (const workspace of workspaces) {
      const state = byWorkspace.get(workspace)!
      try {
        await store.save(state, { toCache })
        if (!toCache) uncached.add(workspace)
      } catch (error) {
        dirty.add(workspace)
        options.log.warning(
          coded('ST002', `The state of ${workspace} could not be saved: ${firstLineOf(error)}`)
        )
      }
    }
    checkpoints++
  }

  /** Saves one after the other: a slow cache save never overlaps the next checkpoint. */
  function queue(toCache: boolean): Promise<void> {
    saving = saving.then(() => write(toCache))
    return saving
  }

  function maybeCheckpoint() {
    const time = now()
    const cacheDue =
      sinceCache >= policy.cacheEvery.repositories || time - cacheAt >= policy.cacheEvery.ms
    const fileDue =
      sinceFile >= policy.fileEvery.repositories || time - fileAt >= policy.fileEvery.ms
    if (!cacheDue && !fileDue) return
    sinceFile = 0
    fileAt = time
    if (cacheDue) {
      sinceCache = 0
      cacheAt = time
    }
    void queue(cacheDue)
  }

  const mark = (workspace: string, fetched: boolean) => {
    dirty.add(workspace)
    if (!fetched) return
    sinceFile++
    sinceCache++
    maybeCheckpoint()
  }

  return {
    states,
    prior: (workspace, uuid) => byWorkspace.get(workspace)?.repositories[uuid],
    record(state, fetched) {
      const workspace = byWorkspace.get(state.workspace)
      if (!workspace) return
      workspace.repositories[state.uuid] = state
      mark(state.workspace, fetched)
    },
    touched(workspace) {
      for (const name of workspace ? [workspace] : byWorkspace.keys()) mark(name, true)
    },
    async save(toCache) {
      for (const workspace of byWorkspace.keys()) dirty.add(workspace)
      await queue(toCache)
    },
    get checkpoints() {
      return checkpoints
    }
  }
}
