// The restore action's artifact source end to end: backups uploaded as the runner does to the results
// service, found through the Actions REST API of the local GitHub (newest index or a run's), downloaded
// with @actions/artifact as on GitHub (302 to a signed blob URL), restored into a fresh Bitbucket.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorLines, projectRoot, runAction, type ActionRun } from './support/action-runner.js'
import type { LocalBitbucket } from './support/bitbucket/index.js'
import { startLocalBitbucket } from './support/bitbucket/index.js'
import { refsOf } from './support/git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from './support/github/index.js'
import {
  artifactStoreOf,
  startResultsService,
  type ResultsService
} from './support/results-service/index.js'
import {
  backUpRoundTrip,
  createRoundTripWorkspace,
  expectRestoredInBitbucket,
  freshBitbucketInputs,
  RESTORE_TOKEN,
  ROUND_TRIP_SLUGS,
  startFreshBitbucket,
  type RoundTripFixture
} from './support/round-trip.js'
import { scanBytes, scanTree, secretForms } from './support/secret-scan.js'
import { shardOf } from '../src/shard/plan.js'

/** The workflow's own GITHUB_TOKEN in the repository that runs the backups. */
const WORKFLOW_TOKEN = 'ghs_workflow0token0of0acme0backups00'

let bb: LocalBitbucket
let rs: ResultsService
let gh: LocalGitHub
let fixture: RoundTripFixture
let base: string
let backupRunner: string
/** rich's refs before the force-push, and the run that backed them up. */
let richBefore: string[]
const FIRST_RUN = 4101
const SECOND_RUN = 4102

async function backup(runId: number, extra: Record<string, string> = {}) {
  const run = await backUpRoundTrip(
    bb,
    { target: 'artifact', ...extra },
    {
      runnerDir: backupRunner,
      env: rs.env({
        runId,
        jobId: 'backup',
        runnerTemp: path.join(backupRunner, 'temp'),
        workspace: path.join(backupRunner, 'workspace')
      })
    }
  )
  expect(run.exitCode).toBe(0)
  return run
}

/** The restore action as the runner runs it in acme/backups, into a fresh Bitbucket. */
async function restoreAction(
  destination: LocalBitbucket,
  inputs: Record<string, string>
): Promise<ActionRun> {
  return runAction(
    {
      from: 'artifact',
      'github-token': WORKFLOW_TOKEN,
      ...freshBitbucketInputs(destination),
      ...inputs
    },
    {
      entry: path.join(projectRoot, 'restore', 'index.js'),
      env: { GITHUB_API_URL: gh.apiUrl, GITHUB_REPOSITORY: 'acme/backups' }
    }
  )
}

/** Artifact ids whose zip the run asked the REST API for. */
const zipDownloads = () =>
  gh.requests
    .map(request => /\/actions\/artifacts\/(\d+)\/zip$/.exec(request.path)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-action-'))
  backupRunner = path.join(base, 'backup-runner')
  bb = await startLocalBitbucket()
  rs = await startResultsService()
  gh = await startLocalGitHub()
  gh.addOrganization('acme')
  gh.addRepository('acme', 'backups', { private: true })
  gh.addToken({
    token: WORKFLOW_TOKEN,
    login: 'github-actions',
    kind: 'actions',
    canPushTo: ['acme/backups']
  })
  gh.serveArtifacts('acme', 'backups', artifactStoreOf(rs))
  fixture = await createRoundTripWorkspace(bb, 'acme')
  await backup(FIRST_RUN)
  richBefore = refsOf(bb.repository('acme', 'rich')!.gitDir)
  // Upstream rewrites history after the first backup: only rich changes.
  fixture.rich.write('rewritten.txt', 'history rewritten\n')
  await fixture.rich.run(['add', '-A'])
  await fixture.rich.run(['commit', '-q', '--amend', '-m', 'rewritten'])
  await fixture.rich.push({ force: true })
  const second = await backup(SECOND_RUN)
  expect(second.outputs).toMatchObject({ 'backed-up': '1', unchanged: '2' })
}, 240_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  await gh?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('the restore action from artifacts', () => {
  it('restores the newest backup of every repository, fetching each artifact from the run that uploaded it', async () => {
    const destination = await startFreshBitbucket()
    try {
      gh.clear()
      const run = await restoreAction(destination, {})
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toEqual({ restored: '4', failed: '0' })
      expect(run.stdout).toMatch(new RegExp(`Read the backup index of run ${SECOND_RUN}`))
      for (const slug of ROUND_TRIP_SLUGS) {
        expectRestoredInBitbucket(bb, 'acme', destination, 'reborn', slug)
      }
      // rich from the second run, the unchanged ones from the first.
      const runsOf = new Map(rs.artifacts.map(artifact => [artifact.id, artifact.runId]))
      const fetchedRuns = zipDownloads().map(id => runsOf.get(id))
      expect(new Set(fetchedRuns)).toEqual(new Set([String(FIRST_RUN), String(SECOND_RUN)]))
      expect(run.summary).toMatch(/acme\/rich/)

      const forms = [
        ...secretForms(WORKFLOW_TOKEN, ['x-access-token']),
        ...secretForms(RESTORE_TOKEN, ['x-bitbucket-api-token-auth', 'restorer'])
      ]
      const shown = run.stdout.replace(/^::add-mask::.*$/gm, '')
      expect(
        scanBytes('the run', Buffer.from(`${shown}${run.stderr}${run.summary}`), forms)
      ).toEqual([])
      const left = scanTree(run.runnerDir, forms)
      expect(left.files).toBeGreaterThan(0)
      expect(left.leaks).toEqual([])
    } finally {
      await destination.close()
    }
  }, 120_000)

  it('with run-id, restores each repository as that run knew it: before the force-push', async () => {
    const destination = await startFreshBitbucket()
    try {
      const run = await restoreAction(destination, {
        'run-id': String(FIRST_RUN),
        repositories: 'rich'
      })
      expect(run.exitCode).toBe(0)
      expect(refsOf(destination.repository('reborn', 'rich')!.gitDir)).toEqual(richBefore)
      expect(richBefore).not.toEqual(refsOf(bb.repository('acme', 'rich')!.gitDir))
    } finally {
      await destination.close()
    }
  }, 120_000)

  it('downloads only the index and the artifacts of the selected repositories', async () => {
    const destination = await startFreshBitbucket()
    try {
      gh.clear()
      const run = await restoreAction(destination, { repositories: 'deep' })
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toEqual({ restored: '1', failed: '0' })
      const names = new Map(rs.artifacts.map(artifact => [artifact.id, artifact.name]))
      expect(
        zipDownloads()
          .map(id => names.get(id))
          .sort()
      ).toEqual(['bitbucket-acme-deep', 'bitbucket-backup-index'])
      expectRestoredInBitbucket(bb, 'acme', destination, 'reborn', 'deep')
    } finally {
      await destination.close()
    }
  }, 120_000)

  it('restores an encrypted backup with the age identity from a secret, and says what it needs without one', async () => {
    const keyFile = path.join(base, 'age-key.txt')
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' })
    const identity = fs.readFileSync(keyFile, 'utf8')
    const recipient = execFileSync('age-keygen', ['-y', keyFile]).toString().trim()
    backupRunner = path.join(base, 'encrypted-runner')
    await backup(4103, { 'encryption-recipients': recipient })
    const destination = await startFreshBitbucket()
    try {
      const refused = await restoreAction(destination, { repositories: 'rich' })
      expect(refused.exitCode).toBe(1)
      expect(refused.stdout).toMatch(/encrypted: give encryption-passphrase or encryption-identity/)
      const run = await restoreAction(destination, {
        repositories: 'rich',
        'encryption-identity': identity
      })
      expect(run.exitCode).toBe(0)
      expectRestoredInBitbucket(bb, 'acme', destination, 'reborn', 'rich')
      const secretKey = /AGE-SECRET-KEY-\S+/.exec(identity)![0]
      const shown = run.stdout.replace(/^::add-mask::.*$/gm, '')
      expect(`${shown}${run.stderr}${run.summary}`).not.toContain(secretKey)
      expect(scanTree(run.runnerDir, [secretKey]).leaks).toEqual([])
    } finally {
      await destination.close()
    }
  }, 180_000)

  it('restores a run sharded across a matrix: the index leads to every shard’s index', async () => {
    const runId = 4104
    const job = (inputs: Record<string, string>, jobId: string) => {
      const runnerDir = fs.mkdtempSync(path.join(base, `${jobId}-`))
      return backUpRoundTrip(bb, inputs, {
        runnerDir,
        env: rs.env({
          runId,
          jobId,
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        })
      })
    }
    // The fewest shards that split these four repositories: the restore must read several indexes.
    const uuids = ROUND_TRIP_SLUGS.map(slug => bb.repository('acme', slug)!.uuid)
    const shards = [2, 3, 4, 5, 6].find(n => new Set(uuids.map(uuid => shardOf(uuid, n))).size > 1)!
    const shardRuns: ActionRun[] = []
    for (let i = 1; i <= shards; i++) {
      shardRuns.push(
        await job({ shard: `${i}/${shards}`, target: 'artifact' }, `backup-${i}of${shards}`)
      )
    }
    expect(shardRuns.map(run => run.exitCode)).toEqual(shardRuns.map(() => 0))
    expect(shardRuns.filter(run => Number(run.outputs.repositories) > 0).length).toBeGreaterThan(1)
    expect((await job({ mode: 'index' }, 'index')).exitCode).toBe(0)
    const destination = await startFreshBitbucket()
    try {
      const run = await restoreAction(destination, {})
      expect(run.stdout).toMatch(new RegExp(`Read the backup index of run ${runId}`))
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toEqual({ restored: '4', failed: '0' })
      for (const slug of ROUND_TRIP_SLUGS) {
        expectRestoredInBitbucket(bb, 'acme', destination, 'reborn', slug)
      }
    } finally {
      await destination.close()
    }
  }, 180_000)

  it('says in one line when the repository has no backup run, or the token cannot read it', async () => {
    gh.addRepository('acme', 'elsewhere', { private: true })
    gh.addToken({
      token: 'ghs_token0of0elsewhere000000000000000',
      login: 'github-actions',
      kind: 'actions',
      canPushTo: ['acme/elsewhere']
    })
    const restoreIn = (repository: string, token: string) =>
      runAction(
        { from: 'artifact', 'github-token': token, to: `${base}/nowhere/{slug}.git` },
        {
          entry: path.join(projectRoot, 'restore', 'index.js'),
          env: { GITHUB_API_URL: gh.apiUrl, GITHUB_REPOSITORY: repository }
        }
      )
    const none = await restoreIn('acme/elsewhere', 'ghs_token0of0elsewhere000000000000000')
    expect(none.exitCode).toBe(1)
    expect(errorLines(none)).toEqual([
      'acme/elsewhere has no unexpired bitbucket-backup-index artifact: has a backup run with target: artifact finished?'
    ])
    const hidden = await restoreIn('acme/elsewhere', WORKFLOW_TOKEN)
    expect(hidden.exitCode).toBe(1)
    expect(errorLines(hidden)).toEqual([
      expect.stringMatching(
        /listed no artifacts of acme\/elsewhere \(404\): the run or repository does not exist, or github-token cannot read its Actions artifacts/
      )
    ])
  })
})
