// Grouping under the per-job artifact limit as repositories finish, and when an artifact is due again.
import { describe, expect, it } from '@jest/globals'
import { singleName } from './names.js'
import { createSlotPlanner, uploadDue } from './plan.js'
import type { RepositoryState } from '../../state/state.js'

const MB = 1_000_000

/** Places `estimates` one by one, as a run finishes them, and returns the artifacts they went into. */
function placeAll(slots: number, estimates: number[], maxGroupBytes = Infinity) {
  const planner = createSlotPlanner(slots, maxGroupBytes)
  const artifacts: number[][] = []
  let open: number[] | undefined
  let left = estimates.reduce((sum, bytes) => sum + bytes, 0)
  estimates.forEach((bytes, index) => {
    left -= bytes
    const placement = planner.place(bytes, {
      repositories: estimates.length - index - 1,
      bytes: left
    })
    if (placement.alone) artifacts.push([bytes])
    else {
      if (placement.opensGroup || !open) artifacts.push((open = []))
      open.push(bytes)
      if (placement.closesGroup) open = undefined
    }
  })
  return { artifacts, used: planner.used }
}

describe('the artifact slot planner', () => {
  it('gives every repository its own artifact while every one still to come could have one', () => {
    const { artifacts } = placeAll(
      3,
      [1, 2, 3].map(i => i * MB)
    )
    expect(artifacts).toEqual([[MB], [2 * MB], [3 * MB]])
  })

  it('never exceeds the limit, keeps large repositories alone and small ones together', () => {
    const estimates = [
      ...Array.from({ length: 5000 }, (_, i) => 10_000 + (i % 97) * 1000),
      ...Array.from({ length: 40 }, (_, i) => (500 + i * 10) * MB)
    ]
    // Shuffled deterministically: the run finishes repositories in no particular size order.
    const order = estimates.map((bytes, i) => ({ bytes, key: (i * 7919) % estimates.length }))
    order.sort((a, b) => a.key - b.key)
    const { artifacts, used } = placeAll(
      499,
      order.map(item => item.bytes)
    )
    expect(artifacts.length).toBeLessThanOrEqual(499)
    expect(used).toBe(artifacts.length)
    expect(artifacts.flat().sort()).toEqual([...estimates].sort())
    for (const artifact of artifacts) {
      if (artifact.some(bytes => bytes >= 500 * MB)) expect(artifact).toHaveLength(1)
    }
    // A small repository comes back with a download far smaller than one large repository.
    const largestGroup = Math.max(
      ...artifacts.filter(a => a.length > 1).map(a => a.reduce((s, b) => s + b, 0))
    )
    expect(largestGroup).toBeLessThan(500 * MB)
  })

  it('stays within the limit when only some repositories turn out to be due', () => {
    const planner = createSlotPlanner(9, Infinity)
    const placements = []
    // 100 repositories to go; every third one is due, the others finish without an upload.
    for (let index = 0; index < 100; index++) {
      const remaining = { repositories: 100 - index - 1, bytes: (100 - index - 1) * MB }
      if (index % 3 === 0) placements.push(planner.place(MB, remaining))
    }
    expect(planner.used).toBeLessThanOrEqual(9)
    expect(placements.filter(p => !p.alone && p.opensGroup).length).toBeGreaterThan(0)
  })

  it('closes groups early to keep their staged files within the disk while slots allow', () => {
    const { artifacts } = placeAll(
      100,
      Array.from({ length: 1000 }, () => MB),
      5 * MB
    )
    expect(artifacts.length).toBeLessThanOrEqual(100)
    expect(Math.max(...artifacts.slice(0, 50).map(a => a.length))).toBeLessThanOrEqual(5)
  })
})

describe('uploadDue', () => {
  const now = new Date('2026-11-24T00:00:00Z')
  const state = (daysAgo: number, fingerprint = 'f'): RepositoryState => ({
    uuid: '{u}',
    workspace: 'w',
    slug: 's',
    fullName: 'w/s',
    projectKey: null,
    fingerprint: 'f',
    refs: 1,
    updatedOn: '',
    lastBackupAt: '',
    lfsComplete: true,
    lfsObjects: 0,
    bytes: 1,
    empty: false,
    artifact: {
      name: 'a',
      id: 1,
      runId: '1',
      uploadedAt: new Date(now.getTime() - daysAgo * 86_400_000).toISOString(),
      retentionDays: 90,
      fingerprint,
      lfs: true,
      encrypted: false
    }
  })

  /** The age in whole days from which an artifact is uploaded again: not due a minute before, due then. */
  const refreshAfterDays = (retentionDays: number) => {
    const due = (days: number) => uploadDue(state(days), retentionDays, now, 'none')
    const day = Array.from({ length: retentionDays + 1 }, (_, days) => days).find(due)
    return day !== undefined && !due(day - 1 / 1440) ? day : undefined
  }

  it('refreshes a week or a quarter of the retention before expiry, whichever is longer', () => {
    expect(refreshAfterDays(90)).toBe(67)
    expect(refreshAfterDays(30)).toBe(22)
    expect(refreshAfterDays(7)).toBe(0)
  })

  it('is due when never uploaded, when the content changed, or when the artifact ages', () => {
    expect(uploadDue(undefined, 90, now, 'none')).toBe(true)
    expect(uploadDue(state(1), 90, now, 'none')).toBe(false)
    expect(uploadDue(state(1, 'older'), 90, now, 'none')).toBe(true)
    expect(uploadDue(state(66), 90, now, 'none')).toBe(false)
    expect(uploadDue(state(67), 90, now, 'none')).toBe(true)
    expect(uploadDue(state(5), 7, now, 'none')).toBe(true)
  })
})

describe('singleName', () => {
  const repository = (workspace: string, slug: string, uuid: string) => ({ workspace, slug, uuid })

  it('names each repository by workspace and slug, and tells apart two that would read the same', () => {
    const taken = new Set<string>()
    expect(singleName(repository('acme', 'api', '{11111111-aaaa}'), taken)).toBe(
      'bitbucket-acme-api'
    )
    expect(singleName(repository('a-b', 'c', '{22222222-bbbb}'), taken)).toBe('bitbucket-a-b-c')
    expect(singleName(repository('a', 'b-c', '{33333333-cccc}'), taken)).toBe(
      'bitbucket-a-b-c-33333333'
    )
  })

  it('never takes the name of the index or of a group', () => {
    const taken = new Set<string>()
    expect(singleName(repository('backup', 'index', '{44444444-dddd}'), taken)).toBe(
      'bitbucket-backup-index-44444444'
    )
    expect(singleName(repository('group', '001', '{55555555-eeee}'), taken)).toBe(
      'bitbucket-group-001-55555555'
    )
  })
})
