// Grouping under the per-job artifact limit, and when a dormant repository is uploaded again.
import { singleName } from '../src/artifact/publish.js'
import { describe, expect, it } from '@jest/globals'
import { groupForLimit, refreshAfterDays, uploadDue } from '../src/artifact/plan.js'
import type { RepositoryState } from '../src/state/state.js'

const MB = 1_000_000

describe('groupForLimit', () => {
  it('gives every repository its own artifact while that fits', () => {
    const items = [1, 2, 3].map(i => ({ key: `r${i}`, bytes: i * MB }))
    expect(groupForLimit(items, 3)).toEqual(items.map(item => [item]))
  })

  it('never exceeds the limit, keeps large repositories alone and small ones together', () => {
    const items = [
      ...Array.from({ length: 5000 }, (_, i) => ({
        key: `small-${i}`,
        bytes: 10_000 + (i % 97) * 1000
      })),
      ...Array.from({ length: 40 }, (_, i) => ({ key: `large-${i}`, bytes: (500 + i * 10) * MB }))
    ]
    const groups = groupForLimit(items, 499)
    expect(groups.length).toBeLessThanOrEqual(499)
    expect(
      groups
        .flat()
        .map(item => item.key)
        .sort()
    ).toEqual(items.map(item => item.key).sort())
    for (const group of groups) {
      if (group.some(item => item.key.startsWith('large-'))) expect(group).toHaveLength(1)
    }
    // A small repository comes back with a download far smaller than one large repository.
    const largestSmallGroup = Math.max(
      ...groups
        .filter(group => group[0].key.startsWith('small-'))
        .map(group => group.reduce((sum, item) => sum + item.bytes, 0))
    )
    expect(largestSmallGroup).toBeLessThan(500 * MB)
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

  it('refreshes a week or a quarter of the retention before expiry, whichever is longer', () => {
    expect(refreshAfterDays(90)).toBe(67)
    expect(refreshAfterDays(30)).toBe(22)
    expect(refreshAfterDays(7)).toBe(0)
  })

  it('is due when never uploaded, when the content changed, or when the artifact ages', () => {
    expect(uploadDue(undefined, 90, now)).toBe(true)
    expect(uploadDue(state(1), 90, now)).toBe(false)
    expect(uploadDue(state(1, 'older'), 90, now)).toBe(true)
    expect(uploadDue(state(66), 90, now)).toBe(false)
    expect(uploadDue(state(67), 90, now)).toBe(true)
    expect(uploadDue(state(5), 7, now)).toBe(true)
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
