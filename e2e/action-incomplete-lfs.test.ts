// End to end on Node 24: one LFS object missing upstream costs a repository nothing else. Every run is
// a fresh hosted runner sharing only the Actions cache; the artifact target receives what exists.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit } from '../src/git/git.js'
import { restoreFromArtifactFolder } from '../src/targets/artifact/restore.js'
import type { RepositoryManifest } from '../src/targets/artifact/manifest.js'
import { errorLines, runAction, type ActionRun } from '../testkit/action-runner.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { lfsOids, workingCopy } from '../testkit/bitbucket/fixtures.js'
import {
  RESTORE_EMAIL,
  RESTORE_TOKEN,
  RESTORE_WORKSPACE,
  runCli,
  startRestoreDestination
} from '../testkit/round-trip.js'
import { lfsObjectFile, refsOf, sha256File } from '../testkit/git-inspect.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0incomplete-e2e-secret'
const README_SCOPES = [
  'read:repository:bitbucket',
  'read:workspace:bitbucket',
  'read:pullrequest:bitbucket'
]
const OBJECTS = 30

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 900
/** The object committed as a pointer whose upload never reached Bitbucket, and its content. */
let missingOid: string
let missingContent: Buffer
let allOids: string[]
const galleryContents = [1, 2, 3].map(i => Buffer.from(`picture ${i} `.repeat(100 * i)))
const galleryOids = galleryContents.map(content =>
  createHash('sha256').update(content).digest('hex')
)

interface Run {
  run: ActionRun
  runId: number
  report: {
    repositories: { slug: string; status: string; lfsMissing?: string[]; artifact?: string }[]
  }
}

/** A brand-new runner at the same path, as on GitHub-hosted runners; only the cache carries over. */
async function freshRunnerBackup(extra: Record<string, string> = {}): Promise<Run> {
  runId++
  const runnerDir = path.join(base, 'runner')
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir)
  const run = await runAction(
    {
      workspace: 'acme',
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      target: 'artifact',
      include: 'assets,app',
      ...extra
    },
    {
      runnerDir,
      env: rs.env({
        runId,
        jobId: 'backup',
        runnerTemp: path.join(runnerDir, 'temp'),
        workspace: path.join(runnerDir, 'workspace')
      })
    }
  )
  const report = JSON.parse(fs.readFileSync(run.outputs.report, 'utf8')) as Run['report']
  return { run, runId, report }
}

const entryOf = (done: Run, slug: string) => done.report.repositories.find(r => r.slug === slug)
const uploadedIn = (id: number) =>
  rs.artifacts
    .filter(artifact => artifact.runId === String(id))
    .map(artifact => artifact.name)
    .sort()
const requestsFor = (slug: string) => bb.gitRequests.filter(r => r.repository === `acme/${slug}`)
const packFetches = (slug: string) => requestsFor(slug).filter(r => r.command === 'fetch')
const lfsBatches = (slug: string) => requestsFor(slug).filter(r => r.service === 'lfs-batch')
const lfsDownloads = () => bb.gitRequests.filter(r => r.service === 'lfs-download')

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-incomplete-e2e-'))
  rs = await startResultsService()
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  // The scopes README asks for, pull requests included (metadata: pull-requests, downloads).
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN, scopes: README_SCOPES })
  bb.addRepository('acme', 'assets')
  bb.addRepository('acme', 'app')
  const assets = await workingCopy(bb, 'acme', 'assets')
  const contents = Array.from({ length: OBJECTS }, (_, i) =>
    Buffer.from(`asset ${i} `.repeat(50 + i))
  )
  contents.slice(0, 20).forEach((content, i) => assets.writeLfs(`a/${i}.bin`, content))
  await assets.commit('twenty assets')
  await assets.tag('v1', { annotated: true })
  await assets.checkout('art', { create: true })
  contents.slice(20).forEach((content, i) => assets.writeLfs(`b/${i}.bin`, content))
  await assets.commit('ten more on a branch')
  await assets.checkout('main')
  await assets.push()
  const app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.push()
  allOids = [...lfsOids(bb, 'acme', 'assets')].sort()
  expect(allOids).toHaveLength(OBJECTS)
  // A pointer pushed from a clone that never had the object: Bitbucket lacks it.
  missingContent = contents[25]
  missingOid = createHash('sha256').update(missingContent).digest('hex')
  bb.removeLfsObject('acme', 'assets', missingOid)

  bb.addRepository('acme', 'gallery')
  const gallery = await workingCopy(bb, 'acme', 'gallery')
  galleryContents.forEach((content, i) => gallery.writeLfs(`g/${i}.bin`, content))
  await gallery.commit('three pictures')
  await gallery.push()
  bb.removeLfsObject('acme', 'gallery', galleryOids[1])
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('an LFS object missing upstream', () => {
  let first: Run

  it('leaves the repository incomplete, not failed, with the missing oid in the outputs, a warning and the report', async () => {
    first = await freshRunnerBackup()
    expect(errorLines(first.run)).toEqual([])
    expect(first.run.exitCode).toBe(0)
    expect(first.run.outputs).toMatchObject({ incomplete: '1', failed: '0', 'backed-up': '1' })
    const warnings = first.run.stdout.split('\n').filter(line => line.startsWith('::warning'))
    expect(warnings).toEqual([expect.stringMatching(/acme\/assets is incomplete/)])
    expect(warnings[0]).toContain(missingOid)
    expect(entryOf(first, 'assets')).toMatchObject({
      status: 'incomplete',
      lfsMissing: [missingOid],
      artifact: 'bitbucket-acme-assets'
    })
    expect(entryOf(first, 'app')).toMatchObject({ status: 'backed-up' })
    expect(packFetches('assets').length).toBeGreaterThan(0)
    expect(uploadedIn(first.runId)).toEqual([
      'bitbucket-acme-app',
      'bitbucket-acme-assets',
      'bitbucket-backup-index'
    ])
  }, 120_000)

  it('uploads an artifact that restores every ref and every object that exists, its manifest naming the missing one', async () => {
    const { dir } = await downloadRunArtifacts(rs, first.runId, base)
    const folder = path.join(dir, 'bitbucket-acme-assets', 'acme', 'assets')
    const destination = path.join(dir, 'restored', 'assets.git')
    const manifest: RepositoryManifest = await restoreFromArtifactFolder(
      createGit(),
      folder,
      destination
    )
    expect(manifest.lfsMissing?.map(object => object.oid)).toEqual([missingOid])
    expect(manifest.lfs).toHaveLength(OBJECTS - 1)
    expect(manifest.bundle).toBe('assets.bundle')
    expect(refsOf(destination)).toEqual(refsOf(bb.repository('acme', 'assets')!.gitDir))
    for (const oid of allOids.filter(oid => oid !== missingOid)) {
      expect(sha256File(lfsObjectFile(destination, oid))).toBe(oid)
    }
    expect(fs.existsSync(lfsObjectFile(destination, missingOid))).toBe(false)
  }, 60_000)

  it('restores into a fresh Bitbucket with every ref and every object that exists, naming the one that never did', async () => {
    const { dir } = await downloadRunArtifacts(rs, first.runId, base)
    const destination = await startRestoreDestination()
    try {
      const run = await runCli(
        [
          'restore',
          '--from',
          dir,
          '--repositories',
          'assets',
          '--bitbucket-workspace',
          RESTORE_WORKSPACE,
          '--bitbucket-api-url',
          destination.apiUrl
        ],
        { BITBUCKET_EMAIL: RESTORE_EMAIL, BITBUCKET_API_TOKEN: RESTORE_TOKEN }
      )
      expect(run.output).toContain('1 restored, 0 failed')
      expect(run.output).toMatch(
        new RegExp(
          `1 LFS object\\(s\\) were missing on Bitbucket when it was backed up \\(first ${missingOid}\\)`
        )
      )
      expect(run.code).toBe(0)
      const restored = destination.repository(RESTORE_WORKSPACE, 'assets')!
      expect(refsOf(restored.gitDir)).toEqual(refsOf(bb.repository('acme', 'assets')!.gitDir))
      expect([...lfsOids(destination, RESTORE_WORKSPACE, 'assets')].sort()).toEqual(
        allOids.filter(oid => oid !== missingOid).sort()
      )
    } finally {
      await destination.close()
    }
  }, 120_000)

  it('a run with nothing changed fetches no pack, asks Bitbucket only for the missing object and uploads nothing', async () => {
    bb.clearGitRequests()
    const second = await freshRunnerBackup()
    expect(second.run.exitCode).toBe(0)
    expect(second.run.outputs).toMatchObject({ incomplete: '1', unchanged: '1', failed: '0' })
    expect(entryOf(second, 'assets')).toMatchObject({
      status: 'incomplete',
      lfsMissing: [missingOid]
    })
    expect(packFetches('assets')).toEqual([])
    expect(lfsBatches('assets').map(r => r.oids)).toEqual([[missingOid]])
    expect(lfsDownloads()).toEqual([])
    expect(uploadedIn(second.runId)).toEqual(['bitbucket-backup-index'])
  }, 120_000)

  it('with fail-on-incomplete: true the step fails with one line that says why', async () => {
    const strict = await freshRunnerBackup({ 'fail-on-incomplete': 'true' })
    expect(strict.run.exitCode).toBe(1)
    expect(errorLines(strict.run)).toEqual([
      expect.stringMatching(/^1 of 2 repositories are incomplete .*fail-on-incomplete is set/)
    ])
    expect(entryOf(strict, 'assets')?.status).toBe('incomplete')
  }, 120_000)

  it('once the object appears, the next run fetches only it, no pack, and uploads a complete artifact', async () => {
    bb.restoreLfsObject('acme', 'assets', missingOid, missingContent)
    bb.clearGitRequests()
    const third = await freshRunnerBackup()
    expect(errorLines(third.run)).toEqual([])
    expect(third.run.outputs).toMatchObject({ 'backed-up': '1', unchanged: '1', incomplete: '0' })
    expect(entryOf(third, 'assets')?.status).toBe('backed-up')
    expect(entryOf(third, 'assets')?.lfsMissing).toBeUndefined()
    expect(packFetches('assets')).toEqual([])
    const batches = lfsBatches('assets')
    expect(batches.length).toBeGreaterThan(0)
    expect(batches.every(r => JSON.stringify(r.oids) === JSON.stringify([missingOid]))).toBe(true)
    expect(lfsDownloads().map(r => r.path.split('?')[0])).toEqual([
      expect.stringContaining(missingOid)
    ])
    expect(uploadedIn(third.runId)).toEqual(['bitbucket-acme-assets', 'bitbucket-backup-index'])

    const { dir } = await downloadRunArtifacts(rs, third.runId, base)
    const destination = path.join(dir, 'restored', 'assets.git')
    const manifest = await restoreFromArtifactFolder(
      createGit(),
      path.join(dir, 'bitbucket-acme-assets', 'acme', 'assets'),
      destination
    )
    expect(manifest.lfsMissing).toBeUndefined()
    expect(manifest.lfs.map(object => object.oid).sort()).toEqual(allOids)
    for (const oid of allOids) expect(sha256File(lfsObjectFile(destination, oid))).toBe(oid)
  }, 120_000)

  it('a run after that finds the repository unchanged and uploads nothing', async () => {
    bb.clearGitRequests()
    const fourth = await freshRunnerBackup()
    expect(fourth.run.exitCode).toBe(0)
    expect(fourth.run.outputs).toMatchObject({ unchanged: '2', incomplete: '0' })
    expect(lfsBatches('assets')).toEqual([])
    expect(uploadedIn(fourth.runId)).toEqual(['bitbucket-backup-index'])
  }, 120_000)
})

describe('an LFS object missing upstream, with the directory target on a self-hosted runner', () => {
  const runnerDir = () => path.join(base, 'self-hosted')
  const mirror = () => path.join(runnerDir(), 'workspace', 'backup', 'acme', 'gallery.git')
  const backUpGallery = () =>
    runAction(
      {
        workspace: 'acme',
        'bitbucket-api-url': bb.apiUrl,
        'bitbucket-email': EMAIL,
        'bitbucket-api-token': API_TOKEN,
        target: 'directory',
        'backup-dir': 'backup',
        include: 'gallery',
        cache: 'false'
      },
      { runnerDir: runnerDir() }
    )

  it('keeps a mirror with everything that exists, then completes it without a pack when the object appears', async () => {
    fs.mkdirSync(runnerDir(), { recursive: true })
    const first = await backUpGallery()
    expect(first.exitCode).toBe(0)
    expect(first.outputs).toMatchObject({ incomplete: '1', failed: '0' })
    expect(refsOf(mirror())).toEqual(refsOf(bb.repository('acme', 'gallery')!.gitDir))
    expect(fs.existsSync(lfsObjectFile(mirror(), galleryOids[1]))).toBe(false)
    for (const oid of [galleryOids[0], galleryOids[2]])
      expect(sha256File(lfsObjectFile(mirror(), oid))).toBe(oid)

    bb.restoreLfsObject('acme', 'gallery', galleryOids[1], galleryContents[1])
    bb.clearGitRequests()
    const second = await backUpGallery()
    expect(second.exitCode).toBe(0)
    expect(second.outputs).toMatchObject({ 'backed-up': '1', incomplete: '0' })
    expect(packFetches('gallery')).toEqual([])
    expect(lfsBatches('gallery').every(r => r.oids?.join() === galleryOids[1])).toBe(true)
    for (const oid of galleryOids) expect(sha256File(lfsObjectFile(mirror(), oid))).toBe(oid)
  }, 120_000)
})
