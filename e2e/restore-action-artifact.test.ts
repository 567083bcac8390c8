// The restore action with `from: artifact`, run as the runner runs it: it finds the backup index
// through GitHub's Actions artifacts REST API (the local GitHub over the results service the backup
// runs uploaded to), downloads only the artifacts it needs and restores into a fresh Bitbucket.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { projectRoot, runAction, type ActionRun } from '../testkit/action-runner.js'
import { lfsOids } from '../testkit/bitbucket/fixtures.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { refsOf } from '../testkit/git-inspect.js'
import { startLocalGitHub, type LocalGitHub } from '../testkit/github/index.js'
import { uploadSmallArtifacts } from '../testkit/artifact-upload.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import {
  artifactBackupInputs,
  createRoundTripWorkspace,
  expectRestoredInBitbucket,
  RESTORE_EMAIL,
  RESTORE_TOKEN,
  RESTORE_WORKSPACE,
  ROUND_TRIP_SLUGS,
  startRestoreDestination,
  type RoundTripFixture
} from '../testkit/round-trip.js'
import { scanBytes, scanTree, secretForms, type Leak } from '../testkit/secret-scan.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0restore-action-artifact-secret'
const GITHUB_TOKEN = 'ghs_restoreWorkflowToken00000000000000000'
const WORKFLOW_REPOSITORY = 'acme/backups'

let bb: LocalBitbucket
let gh: LocalGitHub
let rs: ResultsService
let fixture: RoundTripFixture
let base: string
let ageIdentity = ''
const restoreRuns: ActionRun[] = []
/** Run ids of the backups, in order; the first is the point in time before the force-push. */
const backupRuns: Record<'before' | 'after' | 'encrypted' | 'sharded' | 'rerun' | 'late', number> =
  {
    before: 901,
    after: 902,
    encrypted: 903,
    sharded: 904,
    rerun: 905,
    late: 906
  }
let richBefore: { refs: string[]; lfs: Set<string> }
/** How far the artifact service's clock runs ahead: artifacts expire by it. */
let serviceDays = 0
const DAY_MS = 24 * 3600_000

/** One job of a backup run on a fresh runner at the same path, sharing only the Actions cache. */
async function backupJob(
  runId: number,
  inputs: Record<string, string>,
  jobId = 'backup',
  attempt = '1'
) {
  const runnerDir = path.join(base, 'runner')
  fs.rmSync(runnerDir, { recursive: true, force: true })
  fs.mkdirSync(runnerDir)
  const run = await runAction(
    { ...artifactBackupInputs(bb, 'acme', { email: EMAIL, token: API_TOKEN }), ...inputs },
    {
      runnerDir,
      env: {
        ...rs.env({
          runId,
          jobId,
          repository: WORKFLOW_REPOSITORY,
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        }),
        GITHUB_RUN_ATTEMPT: attempt
      }
    }
  )
  if (run.exitCode !== 0) throw new Error(`backup run ${runId} failed:\n${run.stdout}`)
}

/** The restore action in a job of its own run, into a fresh Bitbucket; the caller closes it. */
async function restoreAction(inputs: Record<string, string>) {
  const destination = await startRestoreDestination()
  const runnerDir = fs.mkdtempSync(path.join(base, 'restore-runner-'))
  const run = await runAction(
    {
      'github-token': GITHUB_TOKEN,
      'bitbucket-workspace': RESTORE_WORKSPACE,
      'bitbucket-email': RESTORE_EMAIL,
      'bitbucket-api-token': RESTORE_TOKEN,
      'bitbucket-api-url': destination.apiUrl,
      ...inputs
    },
    {
      entry: path.join(projectRoot, 'restore', 'index.js'),
      runnerDir,
      env: {
        ...rs.env({
          runId: 1000 + restoreRuns.length,
          jobId: 'restore',
          repository: WORKFLOW_REPOSITORY,
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        }),
        GITHUB_API_URL: gh.apiUrl
      }
    }
  )
  restoreRuns.push(run)
  return { run, destination }
}

/** Names of the artifacts whose zip the restore asked GitHub for, in order. */
function downloadedArtifacts(): string[] {
  return gh.requests
    .map(request => /\/actions\/artifacts\/(\d+)\/zip$/.exec(request.path))
    .filter(match => match !== null)
    .map(match => {
      const artifact = rs.artifacts.find(candidate => candidate.id === Number(match[1]))!
      return `${artifact.runId}:${artifact.name}`
    })
}

function expectAllRestored(run: ActionRun, destination: LocalBitbucket, slugs: readonly string[]) {
  expect({ exitCode: run.exitCode, outputs: run.outputs }).toEqual({
    exitCode: 0,
    outputs: { restored: String(slugs.length), failed: '0' }
  })
  for (const slug of slugs)
    expectRestoredInBitbucket(bb, 'acme', destination, RESTORE_WORKSPACE, slug)
}

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-action-artifact-'))
  ;[bb, rs] = await Promise.all([
    startLocalBitbucket(),
    startResultsService({ now: () => new Date(Date.now() + serviceDays * DAY_MS) })
  ])
  gh = await startLocalGitHub({ artifacts: rs })
  gh.addOrganization('acme')
  gh.addRepository('acme', 'backups', { private: true })
  // The workflow token of the restore job: `permissions: actions: read` in acme/backups.
  gh.addToken({
    token: GITHUB_TOKEN,
    login: 'github-actions[bot]',
    kind: 'actions',
    canReadFrom: [WORKFLOW_REPOSITORY]
  })
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  fixture = await createRoundTripWorkspace(bb, 'acme')
  const rich = bb.repository('acme', 'rich')!.gitDir
  richBefore = { refs: refsOf(rich), lfs: lfsOids(bb, 'acme', 'rich') }
  // The first backup ran 80 days ago (by the artifact service's clock): its artifacts have 10 days left.
  serviceDays = -80
  await backupJob(backupRuns.before, {})
  serviceDays = 0
  // Upstream rewrites history after the first backup: main amended and force-pushed, a tag deleted.
  fixture.rich.write('README.md', '# rich, rewritten\n')
  await fixture.rich.run(['add', '-A'])
  await fixture.rich.run(['commit', '-q', '--amend', '-m', 'history rewritten upstream'])
  await fixture.rich.push({ force: true })
  await fixture.rich.run(['push', '-q', 'origin', '--delete', 'refs/tags/lightweight'])
  // The cache carries the state: only `rich` is uploaded again, the index points at run 901 for the rest.
  await backupJob(backupRuns.after, {})
}, 180_000)

afterAll(async () => {
  await Promise.all([bb?.close(), gh?.close(), rs?.close()])
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('the restore action from artifacts', () => {
  it('restores every repository from the newest backup, fetching each from the run that holds it', async () => {
    gh.clear()
    const { run, destination } = await restoreAction({})
    try {
      expectAllRestored(run, destination, ROUND_TRIP_SLUGS)
      expect(run.stdout).toContain(`Read the backup index of run ${backupRuns.after}.`)
      const downloaded = downloadedArtifacts()
      expect(downloaded[0]).toBe(`${backupRuns.after}:bitbucket-backup-index`)
      expect(downloaded.slice(1).sort()).toEqual(
        [
          `${backupRuns.before}:bitbucket-acme-deep`,
          `${backupRuns.before}:bitbucket-acme-empty`,
          `${backupRuns.before}:bitbucket-acme-many`,
          `${backupRuns.after}:bitbucket-acme-rich`
        ].sort()
      )
      expect(run.summary).toContain('Bitbucket restore')
    } finally {
      await destination.close()
    }
  }, 60_000)

  it('restores the state of an older run with run-id: the force-push and the deleted tag undone', async () => {
    const { run, destination } = await restoreAction({ 'run-id': String(backupRuns.before) })
    try {
      expect(run.outputs).toEqual({ restored: '4', failed: '0' })
      expect(run.stdout).toContain(`Read the backup index of run ${backupRuns.before}.`)
      const rich = destination.repository(RESTORE_WORKSPACE, 'rich')!
      expect(refsOf(rich.gitDir)).toEqual(richBefore.refs)
      expect(richBefore.refs.join('\n')).toContain('refs/tags/lightweight')
      expect(refsOf(bb.repository('acme', 'rich')!.gitDir)).not.toEqual(richBefore.refs)
      for (const oid of richBefore.lfs)
        expect(fs.existsSync(path.join(rich.lfsDir, oid))).toBe(true)
      for (const slug of ['deep', 'many', 'empty'])
        expectRestoredInBitbucket(bb, 'acme', destination, RESTORE_WORKSPACE, slug)
    } finally {
      await destination.close()
    }
  }, 60_000)

  it('downloads only the index and the artifacts of the selected repositories', async () => {
    gh.clear()
    const { run, destination } = await restoreAction({ repositories: 'ric*' })
    try {
      expectAllRestored(run, destination, ['rich'])
      expect(destination.repository(RESTORE_WORKSPACE, 'deep')).toBeUndefined()
      expect(downloadedArtifacts()).toEqual([
        `${backupRuns.after}:bitbucket-backup-index`,
        `${backupRuns.after}:bitbucket-acme-rich`
      ])
    } finally {
      await destination.close()
    }
  }, 60_000)

  it('restores an encrypted backup with encryption-identity, and refuses without it', async () => {
    const keyFile = path.join(base, 'age-key.txt')
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' })
    const recipient = execFileSync('age-keygen', ['-y', keyFile]).toString().trim()
    ageIdentity = /AGE-SECRET-KEY-1\S+/.exec(fs.readFileSync(keyFile, 'utf8'))![0]
    await backupJob(backupRuns.encrypted, { 'encryption-recipients': recipient, cache: 'false' })
    const without = await restoreAction({})
    await without.destination.close()
    expect(without.run.exitCode).toBe(1)
    expect(without.run.stdout).toMatch(
      /the backup index is encrypted: give encryption-passphrase or encryption-identity/
    )
    // The whole key file, comments included, as a user pastes it into the secret.
    const { run, destination } = await restoreAction({
      'encryption-identity': fs.readFileSync(keyFile, 'utf8')
    })
    try {
      expect(run.stdout).toContain(`Read the backup index of run ${backupRuns.encrypted}.`)
      expectAllRestored(run, destination, ROUND_TRIP_SLUGS)
    } finally {
      await destination.close()
    }
  }, 90_000)

  it('restores every shard of a sharded run through the index job’s index', async () => {
    const runId = backupRuns.sharded
    for (const shard of ['1/2', '2/2'])
      await backupJob(runId, { shard, cache: 'false' }, `backup-${shard.replace('/', 'of')}`)
    await backupJob(runId, { mode: 'index', cache: 'false' }, 'index')
    gh.clear()
    const { run, destination } = await restoreAction({})
    try {
      expectAllRestored(run, destination, ROUND_TRIP_SLUGS)
      const downloaded = downloadedArtifacts()
      // Each shard job's index, wherever the uuid hash put the repositories, then theirs.
      expect(downloaded.slice(0, 3)).toEqual([
        `${runId}:bitbucket-backup-index`,
        `${runId}:bitbucket-backup-index-shard-1of2`,
        `${runId}:bitbucket-backup-index-shard-2of2`
      ])
      expect(downloaded.slice(3).sort()).toEqual(
        ROUND_TRIP_SLUGS.map(slug => `${runId}:bitbucket-acme-${slug}`).sort()
      )
    } finally {
      await destination.close()
    }
  }, 90_000)

  it("restores a re-run's last attempt with run-id, though the run lists the first attempt's index first", async () => {
    const runId = backupRuns.rerun
    await backupJob(runId, { cache: 'false', include: 'rich' })
    // Over a page of artifacts from another job, then the re-run after an upstream change.
    const reports = Array.from({ length: 100 }, (_, i) => `report-${i + 1}`)
    await uploadSmallArtifacts(rs, {
      runId,
      repository: WORKFLOW_REPOSITORY,
      apiUrl: gh.apiUrl,
      names: reports,
      parent: base
    })
    await fixture.rich.tag('v2.0', { annotated: true })
    await fixture.rich.run(['push', '-q', 'origin', 'refs/tags/v2.0'])
    await backupJob(runId, { cache: 'false', include: 'rich' }, 'backup', '2')
    gh.clear()
    const { run, destination } = await restoreAction({
      'run-id': String(runId),
      repositories: 'rich'
    })
    try {
      expectAllRestored(run, destination, ['rich'])
      expect(downloadedArtifacts()).toEqual([
        `${runId}:bitbucket-backup-index-attempt-2`,
        `${runId}:bitbucket-acme-rich-attempt-2`
      ])
    } finally {
      await destination.close()
    }
  }, 90_000)

  it('names the run and the permission when run-id is not a run it can read', async () => {
    const { run, destination } = await restoreAction({ 'run-id': '424242' })
    await destination.close()
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      '::error::run 424242 of acme/backups was not found, or github-token may not read its artifacts (it needs actions: read)'
    )
  })

  it('fails only the repositories whose artifact expired, and restores the others', async () => {
    // The backup uploads only the changed `rich`; its index points at run 901 for the rest, whose
    // artifacts expire 10 days later, as when backups stop and the newest index outlives them.
    await backupJob(backupRuns.late, {})
    serviceDays = 20
    const { run, destination } = await restoreAction({})
    try {
      expect(run.stdout).toContain(`Read the backup index of run ${backupRuns.late}.`)
      expect(run.exitCode).toBe(1)
      expect(run.outputs).toEqual({ restored: '1', failed: '3' })
      expectRestoredInBitbucket(bb, 'acme', destination, RESTORE_WORKSPACE, 'rich')
      for (const slug of ['deep', 'many', 'empty']) {
        expect(run.stdout).toContain(
          `::error::acme/${slug}: artifact bitbucket-acme-${slug} of run ${backupRuns.before} could not be downloaded: Artifact has expired`
        )
        expect(destination.repository(RESTORE_WORKSPACE, slug)).toBeUndefined()
      }
    } finally {
      serviceDays = 0
      await destination.close()
    }
  }, 60_000)

  it('leaves no token or age identity in its output, summary, outputs or files', () => {
    expect(restoreRuns.length).toBeGreaterThanOrEqual(5)
    const forms = [
      ...secretForms(GITHUB_TOKEN, ['x-access-token']),
      ...secretForms(API_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth', 'jane']),
      ...secretForms(RESTORE_TOKEN, [RESTORE_EMAIL, 'x-bitbucket-api-token-auth', 'restorer']),
      ...(ageIdentity ? secretForms(ageIdentity) : [])
    ]
    const leaks: Leak[] = []
    let files = 0
    for (const run of restoreRuns) {
      // ::add-mask:: lines are how the runner learns what to mask; it never prints them.
      const stdout = run.stdout.replace(/^::add-mask::.*$/gm, '')
      const text = [stdout, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')
      leaks.push(...scanBytes(`run output of ${run.runnerDir}`, Buffer.from(text), forms))
      const tree = scanTree(run.runnerDir, forms)
      leaks.push(...tree.leaks)
      files += tree.files
    }
    expect(ageIdentity).not.toBe('')
    expect(files).toBeGreaterThan(0)
    expect(leaks).toEqual([])
  })
})
