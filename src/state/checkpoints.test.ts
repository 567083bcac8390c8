// The state is saved as repositories finish: the file often, a cache entry every few minutes, and
// never for repositories that were only checked.
import { describe, expect, it } from '@jest/globals'
import { createStateBook } from './checkpoints.js'
import { emptyState, type RepositoryState, type WorkspaceState } from './state.js'
import type { StateStore } from './store.js'

function recordingStore() {
  const saves: { workspace: string; toCache: boolean; repositories: number }[] = []
  const store: StateStore = {
    load: async workspace => emptyState(workspace),
    async save(state, options) {
      saves.push({
        workspace: state.workspace,
        toCache: options.toCache,
        repositories: Object.keys(state.repositories).length
      })
    }
  }
  return { store, saves }
}

const repository = (workspace: string, index: number): RepositoryState => ({
  uuid: `{${index}}`,
  workspace,
  slug: `r${index}`,
  fullName: `${workspace}/r${index}`,
  projectKey: null,
  fingerprint: 'f',
  refs: 1,
  updatedOn: '',
  lastBackupAt: '',
  lfsComplete: true,
  lfsObjects: 0,
  bytes: 1,
  empty: false
})

const settle = () => new Promise(resolve => setTimeout(resolve, 10))

describe('checkpoints', () => {
  const policy = {
    fileEvery: { repositories: 3, ms: 60_000 },
    cacheEvery: { repositories: 6, ms: 180_000 }
  }

  it('writes the file after each batch and a cache entry after a larger one', async () => {
    const { store, saves } = recordingStore()
    const states: WorkspaceState[] = [emptyState('acme')]
    const book = createStateBook(store, states, {
      policy,
      log: { warning: () => undefined },
      now: () => 0
    })
    for (let index = 1; index <= 6; index++) {
      book.record(repository('acme', index), true)
      await settle()
    }
    expect(saves).toEqual([
      { workspace: 'acme', toCache: false, repositories: 3 },
      { workspace: 'acme', toCache: true, repositories: 6 }
    ])
  })

  it('saves nothing for repositories that were only checked, until the end', async () => {
    const { store, saves } = recordingStore()
    const book = createStateBook(store, [emptyState('acme')], {
      policy,
      log: { warning: () => undefined },
      now: () => 0
    })
    for (let index = 1; index <= 20; index++) book.record(repository('acme', index), false)
    await settle()
    expect(saves).toEqual([])
    await book.save(true)
    expect(saves).toEqual([{ workspace: 'acme', toCache: true, repositories: 20 }])
  })

  it('saves a cache entry every few minutes while repositories change, whatever their number', async () => {
    const { store, saves } = recordingStore()
    let clock = 0
    const book = createStateBook(store, [emptyState('acme')], {
      policy,
      log: { warning: () => undefined },
      now: () => clock
    })
    book.record(repository('acme', 1), true)
    clock = 181_000
    book.record(repository('acme', 2), true)
    await settle()
    expect(saves).toEqual([{ workspace: 'acme', toCache: true, repositories: 2 }])
  })

  it('a save that fails is a warning, and the workspace is saved again at the next checkpoint', async () => {
    const warnings: string[] = []
    let failing = true
    const saved: number[] = []
    const store: StateStore = {
      load: async workspace => emptyState(workspace),
      async save(state) {
        if (failing) throw new Error('ENOSPC: no space left on device')
        saved.push(Object.keys(state.repositories).length)
      }
    }
    const book = createStateBook(store, [emptyState('acme')], {
      policy,
      log: { warning: message => void warnings.push(message) },
      now: () => 0
    })
    for (let index = 1; index <= 3; index++) book.record(repository('acme', index), true)
    await settle()
    expect(warnings).toEqual([
      expect.stringMatching(/^The state of acme could not be saved: ENOSPC/)
    ])
    failing = false
    await book.save(false)
    expect(saved).toEqual([3])
  })
})
