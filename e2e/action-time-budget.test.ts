// End to end on Node 24: the time budget (time-limit) and the runner's cancellation, on hosted runners
// that share only the Actions cache, and on a self-hosted runner that keeps backup-dir.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit } from '../src/git/git.js'
import { restoreFromArtifactFolder } from '../src/targets/artifact/restore.js'
import {
  errorLines,
  startAction,
  type FinishedAction,
  type StartedAction
} from '../testkit/action-runner.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import {
  generateWorkspace,
  planRepositories,
  smallRepositoriesClass
} from '../testkit/bitbucket/generate-workspace.js'
import { refsOf } from '../testkit/git-inspect.js'
import {
  startResultsService,
  type CacheEntryRecord,
  type ResultsService
} from '../testkit/results-service/index.js'

const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0time-budget-e2e-secret'
// Every request waits this long, so small repositories take measurable time.
const LATENCY_MS = 500
const CONCURRENCY = '2'
const SERIES = planRepositories(smallRepositoriesClass(40), 'time-budget')
const SMALL = planRepositories(smallRepositoriesClass(12), 'cancel')

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 900

interface Report {
  timeLimitSeconds?: number
  peakDiskBytes: number
  cancelled: boolean
  repositories: { slug: string; status: string }[]
}

interface Run extends FinishedAction {
  runId: number
  startedAt: number
  report?: Report
}

interface Backup {
  action: StartedAction
  runId: number
  startedAt: number
  runnerDir: string
}

/** A brand-new runner directory at the same path for every run, as GitHub-hosted runners are. */
function freshRunner(name: string): string {
  const dir = path.join(base, name)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir)
  return dir
}

function startBackup(
  workspace: string,
  runnerDir: string,
  extra: Record<string, string> = {},
  env: Record<string, string> = {}
): Backup {
  const id = ++runId
  const startedAt = Date.now()
  const action = startAction(
    {
      workspace,
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      concurrency: CONCURRENCY,
      ...extra
    },
    {
      runnerDir,
      env: {
        ...rs.env({
          runId: id,
          jobId: 'backup',
          runnerTemp: path.join(runnerDir, 'temp'),
          workspace: path.join(runnerDir, 'workspace')
        }),
        ...env
      }
    }
  )
  return { action, runId: id, startedAt, runnerDir }
}

/** The finished run with its JSON report, read before the next run wipes the runner. */
function withReport(backup: Backup, finished: FinishedAction): Run {
  const file = finished.outputs.report
  const report =
    file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Report) : undefined
  return { ...finished, runId: backup.runId, startedAt: backup.startedAt, report }
}

async function backup(
  workspace: string,
  runnerDir: string,
  extra: Record<string, string> = {},
  env: Record<string, string> = {}
): Promise<Run> {
  const started = startBackup(workspace, runnerDir, extra, env)
  return withReport(started, await started.action.done)
}

/** Slugs whose progress line says `status`: `[k/n] acme/slug: backed up: cloned (...)`. */
function progressed(run: { stdout: string }, workspace: string, status: string): string[] {
  const line = new RegExp(`^\\[\\d+/\\d+\\] ${workspace}/([^:]+): ${status}(:|$)`)
  return run.stdout.split('\n').flatMap(text => line.exec(text)?.[1] ?? [])
}

/** Each repository's `size` as the listing reports it to the action. */
async function listedSizes(workspace: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  const authorization = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`
  let next: string | undefined = `${bb.apiUrl}/repositories/${workspace}?pagelen=100`
  while (next) {
    const response = await fetch(next, { headers: { authorization } })
    const page = (await response.json()) as {
      values: { slug: string; size: number }[]
      next?: string
    }
    for (const repository of page.values) sizes.set(repository.slug, repository.size)
    next = page.next
  }
  return sizes
}

/** Pack transfers the local Bitbucket served, by slug, in the order it served them. */
function packFetches(workspace: string): string[] {
  return bb.gitRequests
    .filter(r => r.service === 'upload-pack' && r.command === 'fetch')
    .filter(r => r.repository.startsWith(`${workspace}/`))
    .map(r => r.repository.slice(workspace.length + 1))
}

const stateEntries = (workspace: string): CacheEntryRecord[] =>
  rs.cacheEntries.filter(entry => entry.key.startsWith(`bitbucket-backup-state:${workspace}:all:`))

/** The repositories a state cache entry holds, by slug (the entry is a zstd tar of the file). */
async function slugsInStateEntry(entry: CacheEntryRecord, workspace: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(base, 'state-entry-'))
  const archive = path.join(dir, 'cache.tzst')
  fs.writeFileSync(archive, await rs.blobs.read(entry.container, entry.blob))
  execFileSync('tar', ['--use-compress-program', 'zstd -d', '-xf', archive, '-C', dir])
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'state', `${workspace}.json`), 'utf8'))
  return Object.values(state.repositories as Record<string, { slug: string }>)
    .map(repository => repository.slug)
    .sort()
}

/** Processes still running in `dir` or naming it on their command line (Linux /proc). */
function processesUnder(dir: string): string[] {
  const found: string[] = []
  for (const pid of fs.readdirSync('/proc').filter(name => /^\d+$/.test(name))) {
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`)
      const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cwd.startsWith(dir) || command.includes(dir)) found.push(`${pid}: ${command}`)
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found
}

const uploads = () => rs.requests.filter(r => r.method === 'CreateArtifact').length

/** Resolves once the results service has been asked to create `count` artifacts in all. */
async function uploadStarts(count: number): Promise<void> {
  const until = Date.now() + 30_000
  while (uploads() < count) {
    if (Date.now() > until) throw new Error(`no artifact upload ${count} within 30 s`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

const sorted = (slugs: Iterable<string>) => [...slugs].sort()
const CANCELLED =
  /^Cancelled: (\d+) of (\d+) repositories were backed up and recorded; the next run continues from there\. \[TIME002\]$/

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-time-budget-e2e-'))
  rs = await startResultsService()
  bb = await startLocalBitbucket({ latencyMs: LATENCY_MS })
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  // `twin` has the same repositories as `acme`: a full run of it tells how long one of acme takes.
  await Promise.all([
    generateWorkspace(bb, 'acme', SERIES, { bitmaps: false }),
    generateWorkspace(bb, 'twin', SERIES, { bitmaps: false }),
    generateWorkspace(bb, 'halt', SMALL, { bitmaps: false }),
    generateWorkspace(bb, 'onsite', SMALL, { bitmaps: false })
  ])
}, 120_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
})

describe('a run the runner cancels (artifact target, a fresh runner each run)', () => {
  let cancelled: Run
  let entriesAtSignal = 0

  it('exits within 10 s of SIGINT, before SIGTERM, with one line saying how many repositories were recorded', async () => {
    const started = startBackup('halt', freshRunner('halt-runner'))
    await started.action.waitForStdout(/^\[3\/12\] /, 60_000)
    // The signal comes while a repository's artifact is being uploaded: it finishes after the signal.
    await uploadStarts(uploads() + 1)
    entriesAtSignal = stateEntries('halt').length
    cancelled = withReport(started, await started.action.cancelLikeTheRunner())

    expect(cancelled.exitedAt - cancelled.signalledAt!).toBeLessThan(10_000)
    // Gone before the runner's SIGTERM: only the SIGINT was needed.
    expect(cancelled.signals.map(sent => sent.signal)).toEqual(['SIGINT'])
    expect(cancelled.exitSignal).toBeNull()
    expect(cancelled.exitCode).toBe(1)
    const errors = errorLines(cancelled)
    expect(errors).toHaveLength(1)
    const [, recorded, total] = CANCELLED.exec(errors[0]) ?? []
    expect(Number(total)).toBe(12)
    expect(Number(recorded)).toBe(progressed(cancelled, 'halt', 'backed up').length)
    expect(Number(recorded)).toBeGreaterThanOrEqual(3)
    expect(Number(recorded)).toBeLessThan(12)
    expect(cancelled.report?.cancelled).toBe(true)
    // Git in flight was ended with the run: nothing keeps writing into the runner's directory.
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(processesUnder(started.runnerDir)).toEqual([])
  }, 120_000)

  it('saved a new state cache entry that holds exactly the repositories it reported backed up', async () => {
    const entries = stateEntries('halt')
    expect(entries.length).toBe(entriesAtSignal + 1)
    const newest = entries[entries.length - 1]
    expect(newest.createdAt.getTime()).toBeGreaterThanOrEqual(cancelled.signalledAt!)
    expect(await slugsInStateEntry(newest, 'halt')).toEqual(
      sorted(progressed(cancelled, 'halt', 'backed up'))
    )
  }, 60_000)

  it('the next run on a fresh runner fetches none of the repositories the cancelled run finished, and backs up the rest', async () => {
    const finished = progressed(cancelled, 'halt', 'backed up')
    const fetchedBefore = packFetches('halt').length
    const next = await backup('halt', freshRunner('halt-runner'))
    expect(errorLines(next)).toEqual([])
    expect(next.exitCode).toBe(0)
    const fetched = packFetches('halt').slice(fetchedBefore)
    expect(fetched.filter(slug => finished.includes(slug))).toEqual([])
    expect(sorted(fetched)).toEqual(
      sorted(SMALL.map(spec => spec.slug).filter(slug => !finished.includes(slug)))
    )
    expect(next.outputs).toMatchObject({
      repositories: '12',
      unchanged: String(finished.length),
      'backed-up': String(12 - finished.length),
      deferred: '0'
    })
  }, 120_000)
})

describe('time-limit at a third of a full run (artifact target, a fresh runner each run)', () => {
  let fullSeconds = 0
  let limit = 0
  const runs: Run[] = []

  it('without a limit, one run backs up the whole workspace', async () => {
    const full = await backup('twin', freshRunner('twin-runner'))
    fullSeconds = (full.exitedAt - full.startedAt) / 1000
    expect(full.exitCode).toBe(0)
    expect(full.outputs).toMatchObject({ 'backed-up': String(SERIES.length), deferred: '0' })
  }, 180_000)

  it('every run ends within its limit, backs up some, defers the rest and says so', async () => {
    // At least 10 s: the reserve kept for the end is 5 s whatever the limit.
    limit = Math.max(10, Math.round(fullSeconds / 3))
    const runner = 'acme-runner'
    for (let i = 0; i < 10; i++) {
      const run = await backup('acme', freshRunner(runner), { 'time-limit': `${limit}s` })
      runs.push(run)
      const deferred = Number(run.outputs.deferred)
      // Room for Node to start and the runner to notice the exit, beyond the limit itself.
      expect(run.exitedAt - run.startedAt).toBeLessThan((limit + 4) * 1000)
      expect(run.exitCode).toBe(0)
      expect(errorLines(run)).toEqual([])
      expect(Number(run.outputs['backed-up'])).toBeGreaterThan(0)
      expect(run.report?.timeLimitSeconds).toBe(limit)
      // Measured from the free space of a disk other processes share: present, maybe 0.
      expect(run.report?.peakDiskBytes).toEqual(expect.any(Number))
      expect(run.report?.repositories.filter(r => r.status === 'deferred')).toHaveLength(deferred)
      expect(run.summary).toContain(`Time limit ${limit}s: ran `)
      expect(run.summary).toContain('Peak disk used: ')
      if (deferred === 0) break
      expect(run.summary).toContain(`${deferred} repositories deferred to the next run`)
      for (const slug of progressed(run, 'acme', 'deferred'))
        expect(run.summary).toContain(`| acme/${slug} | deferred |`)
      expect(run.stdout).toContain(
        `::warning::${deferred} of ${SERIES.length} repositories were not reached within time-limit`
      )
    }
    expect(Number(runs[runs.length - 1].outputs.deferred)).toBe(0)
    expect(runs.length).toBeGreaterThanOrEqual(3)
  }, 300_000)

  it('each run starts with what the runs before it left, largest first, and no repository is fetched twice', async () => {
    const all = SERIES.map(spec => spec.slug)
    expect(sorted(packFetches('acme'))).toEqual(sorted(all))
    const size = await listedSizes('acme')
    let waiting = all
    for (const run of runs) {
      const backedUp = progressed(run, 'acme', 'backed up')
      // What an earlier run did is only checked, and found unchanged.
      expect(backedUp.filter(slug => !waiting.includes(slug))).toEqual([])
      expect(Number(run.outputs.unchanged)).toBe(all.length - waiting.length)
      // Those never backed up go largest first among the checked, but checks (four per transfer slot)
      // come in listing order: the first transfers pick from what the checks have reached.
      const slack = backedUp.length + 4 * Number(CONCURRENCY)
      const largest = [...waiting].sort((a, b) => size.get(b)! - size.get(a)!).slice(0, slack)
      const listedFirst = waiting.slice(0, slack)
      expect(
        backedUp.filter(slug => !largest.includes(slug) && !listedFirst.includes(slug))
      ).toEqual([])
      waiting = waiting.filter(slug => !backedUp.includes(slug))
      expect(sorted(progressed(run, 'acme', 'deferred'))).toEqual(sorted(waiting))
    }
    expect(waiting).toEqual([])
  })

  it("the last run's index points at an artifact for every repository, and they restore as the source", async () => {
    const last = runs[runs.length - 1]
    const { dir } = await downloadRunArtifacts(rs, last.runId, base)
    const index = JSON.parse(
      fs.readFileSync(path.join(dir, 'bitbucket-backup-index', 'index.json'), 'utf8')
    ) as { repositories: { slug: string; artifact: { id: number; runId: string } | null }[] }
    expect(sorted(index.repositories.map(entry => entry.slug))).toEqual(
      sorted(SERIES.map(spec => spec.slug))
    )
    const uploaded = new Set(rs.artifacts.map(artifact => artifact.id))
    for (const entry of index.repositories) expect(uploaded.has(entry.artifact!.id)).toBe(true)
    // One repository from each of the first and the last run, restored bit for bit.
    const git = createGit()
    for (const run of [runs[0], last]) {
      const slug = progressed(run, 'acme', 'backed up')[0]
      const entry = index.repositories.find(candidate => candidate.slug === slug)!
      expect(entry.artifact!.runId).toBe(String(run.runId))
      const download = await downloadRunArtifacts(rs, run.runId, base)
      const restored = path.join(download.dir, 'restored', `${slug}.git`)
      await restoreFromArtifactFolder(
        git,
        path.join(download.dir, `bitbucket-acme-${slug}`, 'acme', slug),
        restored
      )
      expect(refsOf(restored)).toEqual(refsOf(bb.repository('acme', slug)!.gitDir))
      execFileSync('git', ['fsck', '--full', '--strict'], { cwd: restored, stdio: 'pipe' })
    }
  }, 120_000)
})

describe('a self-hosted runner cancelled (directory target, state in backup-dir)', () => {
  it('keeps the state of what finished in backup-dir; the next run fetches none of it and every mirror equals its source', async () => {
    const runnerDir = freshRunner('onsite-runner')
    const inputs = { target: 'directory', 'backup-dir': 'backup' }
    const env = { RUNNER_ENVIRONMENT: 'self-hosted' }
    const started = startBackup('onsite', runnerDir, inputs, env)
    await started.action.waitForStdout(/^\[3\/12\] /, 60_000)
    const cancelled = await started.action.cancelLikeTheRunner()
    expect(cancelled.exitedAt - cancelled.signalledAt!).toBeLessThan(10_000)
    expect(cancelled.exitCode).toBe(1)
    expect(errorLines(cancelled)).toEqual([expect.stringMatching(CANCELLED)])
    const finished = progressed(cancelled, 'onsite', 'backed up')
    const backupDir = path.join(runnerDir, 'workspace', 'backup', 'onsite')
    const state = JSON.parse(
      fs.readFileSync(path.join(backupDir, '.bitbucket-backup-state.json'), 'utf8')
    ) as { repositories: Record<string, { slug: string }> }
    expect(sorted(Object.values(state.repositories).map(r => r.slug))).toEqual(sorted(finished))

    const fetchedBefore = packFetches('onsite').length
    const next = await backup('onsite', runnerDir, inputs, env)
    expect(next.exitCode).toBe(0)
    const fetched = packFetches('onsite').slice(fetchedBefore)
    expect(fetched.filter(slug => finished.includes(slug))).toEqual([])
    expect(next.outputs).toMatchObject({ unchanged: String(finished.length), deferred: '0' })
    for (const { slug } of SMALL) {
      expect(refsOf(path.join(backupDir, `${slug}.git`))).toEqual(
        refsOf(bb.repository('onsite', slug)!.gitDir)
      )
    }
  }, 120_000)
})
