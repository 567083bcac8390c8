// The two halves of a repository's backup: the cheap check finishes unchanged repositories with one
// ref listing and no transfer; everything else (new, changed, damaged, cache restore) is handed on.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { MirrorOps } from '../git/mirror.js'
import {
  checkRepository,
  transferRepository,
  type RepositoryJob,
  type RepositoryOutcome
} from './repository.js'
import type { RepositoryState } from '../state/state.js'

/** Checks, then transfers when the check did not finish the repository. */
async function backUpRepository(job: RepositoryJob): Promise<RepositoryOutcome> {
  const check = await checkRepository(job)
  return 'outcome' in check ? check.outcome : transferRepository(job, check.pending)
}

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-phases-'))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const repository: BitbucketRepository = {
  uuid: '{00000000-0000-0000-0000-000000000001}',
  slug: 'app',
  name: 'app',
  fullName: 'acme/app',
  workspace: 'acme',
  scm: 'git',
  isPrivate: true,
  description: '',
  mainBranch: 'main',
  updatedOn: '2026-11-01T10:00:00+00:00',
  size: 1,
  projectKey: 'PROJ',
  projectName: 'PROJ',
  httpsCloneUrl: 'https://bitbucket.example/acme/app.git',
  htmlUrl: 'https://bitbucket.example/acme/app',
  raw: {}
}

const prior: RepositoryState = {
  uuid: repository.uuid,
  workspace: 'acme',
  slug: 'app',
  fullName: 'acme/app',
  projectKey: 'PROJ',
  fingerprint: 'f1',
  refs: 1,
  updatedOn: repository.updatedOn,
  lastBackupAt: '2026-11-01T00:00:00.000Z',
  lfsComplete: true,
  lfsObjects: 0,
  bytes: 100,
  empty: false
}

/** Mirror operations that record what was called; upstream and disk fingerprints are settable. */
function fakeOps(upstream: string, onDisk: string) {
  const calls: string[] = []
  const snapshot = (fingerprint: string) => ({
    fingerprint,
    refs: 1,
    refMap: new Map([['refs/heads/main', 'a'.repeat(40)]])
  })
  const transfer = { bytesFetched: 10, refsChanged: 1, protectedRefs: [] }
  const ops = {
    remoteRefs: async () => (calls.push('remoteRefs'), snapshot(upstream)),
    localSnapshot: async () => (calls.push('localSnapshot'), snapshot(onDisk)),
    clone: async (_url: string, dir: string) => {
      calls.push('clone')
      fs.mkdirSync(dir, { recursive: true })
      return transfer
    },
    update: async () => (calls.push('update'), transfer),
    setHead: async () => (calls.push('setHead'), false),
    inspect: async () => (
      calls.push('inspect'),
      {
        ...snapshot(upstream),
        empty: false,
        lfsObjects: 0,
        lfsBytes: 0,
        lfsMissing: [],
        bytes: 10
      }
    )
  } as unknown as MirrorOps
  return { ops, calls }
}

function job(
  name: string,
  ops: MirrorOps,
  options: { prior?: RepositoryState; mirror?: boolean; wanted?: boolean; restored?: boolean }
): RepositoryJob & { restores: string[] } {
  const dir = path.join(root, name)
  const mirror = path.join(dir, 'app.git')
  if (options.mirror) fs.mkdirSync(mirror, { recursive: true })
  const restores: string[] = []
  return {
    repository,
    prior: options.prior,
    lfs: true,
    ops,
    mirror,
    restoreMirror: async () => {
      restores.push(mirror)
      if (!options.restored || !options.prior?.mirrorCacheKey) return false
      fs.mkdirSync(mirror, { recursive: true })
      return true
    },
    missingUpstream: async objects => new Set(objects.map(object => object.oid)),
    mirrorWanted: options.wanted ?? false,
    log: () => undefined,
    restores
  }
}

describe('checkRepository and transferRepository', () => {
  it('finishes an unchanged repository in the check, with one ref listing and nothing else', async () => {
    const { ops, calls } = fakeOps('f1', 'f1')
    const check = await checkRepository(job('unchanged', ops, { prior, mirror: true }))
    expect('outcome' in check && check.outcome.result.status).toBe('unchanged')
    expect(calls).toEqual(['remoteRefs', 'localSnapshot'])
  })

  it('an unchanged repository whose mirror lives only in the cache needs no restore unless wanted', async () => {
    const { ops, calls } = fakeOps('f1', 'f1')
    const quiet = job('cache-only', ops, { prior })
    const check = await checkRepository(quiet)
    expect('outcome' in check && check.outcome.result.status).toBe('unchanged')
    expect(calls).toEqual(['remoteRefs'])
    expect(quiet.restores).toEqual([])
  })

  it('hands a wanted mirror to the transfer half, which restores it and finds it unchanged', async () => {
    const { ops, calls } = fakeOps('f1', 'f1')
    const cached = { ...prior, mirrorCacheKey: 'bitbucket-backup-mirror-1' }
    const wanted = job('restore', ops, { prior: cached, wanted: true, restored: true })
    const check = await checkRepository(wanted)
    expect('pending' in check && check.pending.restoreThenCompare).toBe(true)
    expect(wanted.restores).toEqual([])
    if (!('pending' in check)) throw new Error('expected a pending transfer')
    const outcome = await transferRepository(wanted, check.pending)
    expect(outcome.result.status).toBe('unchanged')
    expect(wanted.restores).toHaveLength(1)
    expect(calls).toEqual(['remoteRefs', 'localSnapshot'])
  })

  it('a new repository is cloned without a ref listing; a changed one is fetched', async () => {
    const fresh = fakeOps('f2', 'f2')
    const created = await backUpRepository(job('new', fresh.ops, {}))
    expect(created.result.status).toBe('backed-up')
    expect(fresh.calls).toEqual(['clone', 'setHead', 'inspect'])

    const changed = fakeOps('f2', 'f1')
    const check = await checkRepository(job('changed', changed.ops, { prior, mirror: true }))
    expect('pending' in check && check.pending.mirrorPresent).toBe(true)
    expect(changed.calls).toEqual(['remoteRefs'])
  })

  it('a mirror on disk that differs from the state is repaired by a fetch', async () => {
    const { ops, calls } = fakeOps('f1', 'damaged')
    const outcome = await backUpRepository(job('damaged', ops, { prior, mirror: true }))
    expect(outcome.result.status).toBe('backed-up')
    expect(calls).toEqual(['remoteRefs', 'localSnapshot', 'update', 'setHead', 'inspect'])
  })
})
