// The workspace generator (benchmarks, large listings): deterministic sizes, real git history and LFS
// objects that real git and git-lfs fetch from the local Bitbucket, and commits added later.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startLocalBitbucket, type LocalBitbucket } from './index.js'
import { clientEnv, git, lfsOids, mirrorClone } from './fixtures.js'
import {
  addCommits,
  generateWorkspace,
  mixedWorkspaceClasses,
  planRepositories,
  seededBytes,
  smallRepositoriesClass,
  type GeneratedWorkspace
} from './generate-workspace.js'

const TOKEN = 'ATATT-generate'
const auth = `Basic ${Buffer.from(`x-bitbucket-api-token-auth:${TOKEN}`).toString('base64')}`
let bb: LocalBitbucket
let mixed: GeneratedWorkspace

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.addApiToken({ email: 'gen@example.com', username: 'gen', token: TOKEN })
  const classes = mixedWorkspaceClasses({ small: 2, medium: 1, large: 1 }, 0.02)
  mixed = await generateWorkspace(bb, 'mixed', planRepositories(classes))
}, 60_000)

afterAll(async () => bb?.close())

describe('generated workspaces', () => {
  it('plans the same sizes and content for the same seed', () => {
    const a = planRepositories(mixedWorkspaceClasses())
    expect(planRepositories(mixedWorkspaceClasses())).toEqual(a)
    expect(a.map(spec => spec.slug.split('-')[0]).sort()).toEqual(
      [...Array(15).fill('medium'), ...Array(5).fill('large'), ...Array(40).fill('small')].sort()
    )
    const mb = (bytes: number) => bytes / 1024 / 1024
    expect(mb(a.reduce((sum, spec) => sum + spec.gitBytes, 0))).toBeGreaterThan(75)
    expect(mb(a.reduce((sum, spec) => sum + spec.lfsBytes, 0))).toBeGreaterThan(85)
    expect(planRepositories(mixedWorkspaceClasses(), 'other')).not.toEqual(a)
    expect(seededBytes('x', 64)).toEqual(seededBytes('x', 64))
    expect(
      planRepositories(smallRepositoriesClass(3))
        .map(spec => spec.slug)
        .sort()
    ).toEqual(['repo-01', 'repo-02', 'repo-03'])
  })

  it('writes branches, tags and LFS objects that git and git-lfs fetch back whole', async () => {
    const large = mixed.repositories.find(spec => spec.slug.startsWith('large'))!
    const run = await mirrorClone(bb, auth, 'mixed', large.slug)
    expect(run.code).toBe(0)
    const refs = (await git(['for-each-ref', '--format=%(refname)'], { cwd: run.dir })).stdout
    expect(refs.split('\n').filter(ref => ref.startsWith('refs/heads/'))).toHaveLength(
      1 + large.branches
    )
    expect(refs.split('\n').filter(ref => ref.startsWith('refs/tags/'))).toHaveLength(large.tags)
    const fetched = await git(['lfs', 'fetch', '--all', 'origin'], {
      cwd: run.dir,
      env: clientEnv(bb, auth)
    })
    expect(fetched.code).toBe(0)
    const oids = lfsOids(bb, 'mixed', large.slug)
    expect(oids.size).toBe(large.lfsObjects)
    let lfsBytes = 0
    for (const oid of oids) {
      const file = path.join(run.dir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
      const data = fs.readFileSync(file)
      expect(createHash('sha256').update(data).digest('hex')).toBe(oid)
      lfsBytes += data.length
    }
    expect(lfsBytes).toBe(large.lfsBytes)
  })

  it('adds a commit to main of the chosen repositories only', async () => {
    const [first, second] = mixed.repositories.map(spec => spec.slug)
    const head = async (slug: string) =>
      (await git(['rev-parse', 'refs/heads/main'], { cwd: bb.repository('mixed', slug)!.gitDir }))
        .stdout
    const before = [await head(first), await head(second)]
    await addCommits(bb, 'mixed', [first], { label: 'later' })
    expect(await head(first)).not.toBe(before[0])
    expect(await head(second)).toBe(before[1])
    const parent = await git(['rev-parse', 'refs/heads/main^'], {
      cwd: bb.repository('mixed', first)!.gitDir
    })
    expect(parent.stdout).toBe(before[0])
  })
})
