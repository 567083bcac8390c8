import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseSettings } from '../settings/settings.js'
import type { CacheStore } from './actions-cache.js'
import { emptyState } from './state.js'
import { createStateStore, statePlace } from './store.js'

/** The state format this version of the action writes. */
const STATE_VERSION = emptyState('acme').version

let runnerTemp: string

beforeEach(() => {
  runnerTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-state-store-'))
})
afterEach(() => fs.rmSync(runnerTemp, { recursive: true, force: true }))

function settingsFor(target: string) {
  const inputs: Record<string, string> = {
    workspace: 'acme',
    'bitbucket-email': 'jane@example.com',
    'bitbucket-api-token': 'ATATT-state-store',
    target,
    'backup-dir': 'backups'
  }
  return parseSettings({
    get: name => inputs[name] ?? '',
    mask: () => undefined,
    env: { GITHUB_WORKSPACE: runnerTemp, RUNNER_TEMP: runnerTemp }
  })
}

/** A cache whose state entry restores the given text into the file asked for. */
function cacheRestoring(text: string): CacheStore {
  return {
    available: true,
    async restore(paths) {
      fs.mkdirSync(path.dirname(paths[0]), { recursive: true })
      fs.writeFileSync(paths[0], text)
      return 'bitbucket-backup-state:acme:all:1'
    },
    has: async () => false,
    save: async () => true
  }
}

describe('the state store', () => {
  it.each([
    [
      'another version of the action',
      JSON.stringify({ version: STATE_VERSION + 1, repositories: {} })
    ],
    ['a damaged entry', '{"version": 1, "repositor']
  ])('starts afresh with a warning when the cached state is from %s', async (_, text) => {
    const warnings: string[] = []
    const log = { warning: (message: string) => void warnings.push(message) }
    const store = createStateStore(
      statePlace(settingsFor('artifact')),
      cacheRestoring(text),
      log,
      {}
    )
    const state = await store.load('acme')
    expect(state).toMatchObject({ version: STATE_VERSION, workspace: 'acme', repositories: {} })
    expect(warnings).toEqual([
      expect.stringMatching(
        /^acme: the state restored from the Actions cache could not be read .*; this run starts afresh/
      )
    ])
    expect(fs.existsSync(path.join(runnerTemp, 'bitbucket-backup', 'state', 'acme.json'))).toBe(
      false
    )
  })

  it("refuses a state file of an unknown format in backup-dir: it is the user's own", async () => {
    const file = path.join(runnerTemp, 'backups', 'acme', '.bitbucket-backup-state.json')
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify({ version: STATE_VERSION + 1, repositories: {} }))
    const settings = settingsFor('directory')
    const place = statePlace(settings, workspace => path.join(settings.backupDir, workspace))
    const store = createStateStore(
      place,
      cacheRestoring('unused'),
      { warning: () => undefined },
      {}
    )
    await expect(store.load('acme')).rejects.toThrow(/has an unknown format/)
    expect(fs.existsSync(file)).toBe(true)
  })
})
