// End to end on Node 24: the runner's RUNNER_TEMP, GITHUB_WORKSPACE and HOME on a tmpfs smaller than
// the workspace, with the default artifact target and the Actions cache; every repository must still
// be backed up and restorable, and a repository that cannot fit fails alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit } from '../src/git/git.js'
import { restoreFromArtifactFolder } from '../src/targets/artifact/restore.js'
import { errorLines, runAction, type FinishedAction } from '../testkit/action-runner.js'
import { downloadRunArtifacts } from '../testkit/artifact-download.js'
import { generateWorkspace, type RepositorySpec } from '../testkit/bitbucket/generate-workspace.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { startResultsService, type ResultsService } from '../testkit/results-service/index.js'
import { expectRestoredAsSource } from '../testkit/round-trip.js'
import { scanBytes, scanCacheArchive, scanTree, secretForms } from '../testkit/secret-scan.js'
import { mountSmallDisk, type SmallDisk } from '../testkit/small-disk.js'

const MiB = 1024 * 1024
const DISK_MB = 32
const EMAIL = 'jane@example.com'
const API_TOKEN = 'ATATT3xFfGF0small-disk-e2e-secret'

const mounted = await mountSmallDisk(DISK_MB)
if ('skip' in mounted) console.log(mounted.skip)
const disk: SmallDisk | undefined = 'skip' in mounted ? undefined : mounted
const itMounted = disk ? it : it.skip

/** About twice the disk: 8 git repositories and 4 with LFS, incompressible content. */
const WORKSPACE: RepositorySpec[] = [
  ...Array.from({ length: 8 }, (_, i) => ({
    slug: `code-${i + 1}`,
    gitBytes: 3 * MiB,
    commits: 3,
    branches: 1,
    tags: 1,
    lfsBytes: 0,
    lfsObjects: 0
  })),
  ...Array.from({ length: 4 }, (_, i) => ({
    slug: `media-${i + 1}`,
    gitBytes: MiB / 2,
    commits: 2,
    branches: 1,
    tags: 1,
    lfsBytes: 9 * MiB,
    lfsObjects: 3
  }))
]
const small = (slug: string): RepositorySpec => ({
  slug,
  gitBytes: 200 * 1024,
  commits: 2,
  branches: 1,
  tags: 1,
  lfsBytes: 0,
  lfsObjects: 0
})

let bb: LocalBitbucket
let rs: ResultsService
let base: string
let runId = 900
const runs: FinishedAction[] = []
const forms = secretForms(API_TOKEN, [EMAIL, 'x-bitbucket-api-token-auth', 'jane'])
const leaks: ReturnType<typeof scanBytes> = []

/** The step's last line, ending with the code of the first failure's entry in docs/troubleshooting.md. */
const notBackedUp = (code: string) =>
  `1 of 4 repositories were not backed up; see the job summary. [${code}]`
const runnerDir = () => path.join(disk!.dir, 'runner')

/** A brand-new runner on the small disk at the same path each time, as GitHub-hosted runners are. */
async function backupOnSmallDisk(workspace: string, extra: Record<string, string> = {}) {
  runId++
  fs.rmSync(runnerDir(), { recursive: true, force: true })
  const home = path.join(runnerDir(), 'home')
  fs.mkdirSync(home, { recursive: true })
  const run = await runAction(
    {
      workspace,
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': EMAIL,
      'bitbucket-api-token': API_TOKEN,
      ...extra
    },
    {
      runnerDir: runnerDir(),
      env: {
        ...rs.env({
          runId,
          jobId: 'backup',
          runnerTemp: path.join(runnerDir(), 'temp'),
          workspace: path.join(runnerDir(), 'workspace')
        }),
        HOME: home
      }
    }
  )
  runs.push(run)
  leaks.push(...scanTree(runnerDir(), forms).leaks)
  return { run, runId }
}

function reportOf(run: FinishedAction) {
  return JSON.parse(fs.readFileSync(run.outputs.report, 'utf8')) as {
    peakDiskBytes: number
    freeDiskBytes: number
    repositories: { slug: string; status: string; detail?: string }[]
  }
}

const statusOf = (run: FinishedAction) =>
  Object.fromEntries(reportOf(run).repositories.map(r => [r.slug, r.status]))

/** Paths on the small disk whose name carries the repository's uuid or slug. */
function leftOnDisk(workspace: string, slug: string): string[] {
  const uuid = bb.repository(workspace, slug)!.uuid.replace(/[{}]/g, '')
  const found: string[] = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.name.includes(uuid) || entry.name.includes(slug)) found.push(full)
      if (entry.isDirectory()) walk(full)
    }
  }
  walk(disk!.dir)
  return found
}

/** Downloads a run's artifacts off the small disk and restores each repository, compared with upstream. */
async function restoreEveryRepository(workspace: string, forRun: number): Promise<string[]> {
  const { dir } = await downloadRunArtifacts(rs, forRun, base)
  leaks.push(...scanTree(dir, forms).leaks)
  const git = createGit()
  const restored: string[] = []
  for (const artifact of fs.readdirSync(dir)) {
    const workspaceDir = path.join(dir, artifact, workspace)
    if (!fs.existsSync(workspaceDir)) continue
    for (const slug of fs.readdirSync(workspaceDir)) {
      const destination = path.join(dir, 'restored', `${slug}.git`)
      await restoreFromArtifactFolder(git, path.join(workspaceDir, slug), destination)
      expectRestoredAsSource(bb, workspace, slug, destination)
      restored.push(slug)
    }
  }
  return restored.sort()
}

beforeAll(async () => {
  if (!disk) return
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-small-disk-e2e-'))
  rs = await startResultsService()
  bb = await startLocalBitbucket()
  bb.addApiToken({ email: EMAIL, username: 'jane', token: API_TOKEN })
  await generateWorkspace(bb, 'acme', WORKSPACE, { seed: 'small-disk', concurrency: 2 })
  await generateWorkspace(bb, 'tight', ['t-1', 'huge', 't-2', 't-3'].map(small), {
    seed: 'tight'
  })
  // Bitbucket's size counts git only: this one's LFS objects alone are larger than the disk.
  const lfsHeavy = { ...small('lfs-heavy'), lfsBytes: 45 * MiB, lfsObjects: 3 }
  await generateWorkspace(bb, 'lfs', [small('l-1'), lfsHeavy, small('l-2'), small('l-3')], {
    seed: 'lfs'
  })
  // Listed first, so the repositories after it need the disk its failure must give back.
  const packHeavy = { ...small('pack-heavy'), gitBytes: 40 * MiB }
  await generateWorkspace(bb, 'pack', [packHeavy, small('p-1'), small('p-2'), small('p-3')], {
    seed: 'pack'
  })
}, 180_000)

afterAll(async () => {
  await bb?.close()
  await rs?.close()
  if (base) fs.rmSync(base, { recursive: true, force: true })
  await disk?.unmount()
})

describe(`a runner whose disk (a ${DISK_MB} MiB tmpfs) is smaller than the workspace`, () => {
  itMounted(
    'backs up every repository into artifacts that restore bit for bit, using less disk than it has',
    async () => {
      const listed = WORKSPACE.reduce((sum, spec) => sum + spec.gitBytes + spec.lfsBytes, 0)
      expect(listed).toBeGreaterThan(1.8 * disk!.sizeBytes)
      const sampler = disk!.startSampling(20)
      const { run, runId: id } = await backupOnSmallDisk('acme')
      const { peakUsedBytes } = await sampler.stop()
      expect(errorLines(run)).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.stdout).not.toMatch(/disk filled up|No space left/i)
      expect(Object.values(statusOf(run))).toEqual(WORKSPACE.map(() => 'backed-up'))
      // The sampler saw real work (the largest repository at least), and never a full disk.
      expect(peakUsedBytes).toBeGreaterThan(9 * MiB)
      expect(peakUsedBytes).toBeLessThan(disk!.sizeBytes)
      const report = reportOf(run)
      expect(report.peakDiskBytes).toBeGreaterThan(0)
      expect(report.peakDiskBytes).toBeLessThan(disk!.sizeBytes)
      expect(run.summary).toMatch(/Peak disk used: .+ of .+ free at the start\./)
      expect(
        rs.cacheEntries.filter(e => e.key.startsWith('bitbucket-backup-mirror-'))
      ).toHaveLength(WORKSPACE.length)
      expect(await restoreEveryRepository('acme', id)).toEqual(
        WORKSPACE.map(spec => spec.slug).sort()
      )
    },
    240_000
  )

  itMounted(
    'a second run on a fresh runner changes nothing and fetches no pack',
    async () => {
      bb.clearGitRequests()
      const entriesBefore = rs.cacheEntries.length
      const { run, runId: id } = await backupOnSmallDisk('acme')
      expect(run.exitCode).toBe(0)
      expect(run.outputs).toMatchObject({ unchanged: String(WORKSPACE.length), 'backed-up': '0' })
      expect(bb.gitRequests.filter(r => r.command === 'fetch')).toEqual([])
      expect(bb.gitRequests.filter(r => r.service === 'lfs-download')).toEqual([])
      const added = rs.cacheEntries.slice(entriesBefore).map(entry => entry.key)
      expect(added.filter(key => key.startsWith('bitbucket-backup-mirror-'))).toEqual([])
      expect(rs.artifacts.filter(a => a.runId === String(id)).map(a => a.name)).toEqual([
        'bitbucket-backup-index'
      ])
    },
    180_000
  )

  itMounted(
    'a repository listed larger than the disk fails alone with one line; the others are backed up',
    async () => {
      bb.setReportedSize('tight', 'huge', 320_000_000)
      const { run } = await backupOnSmallDisk('tight')
      expect(run.exitCode).toBe(1)
      expect(errorLines(run)).toEqual([
        expect.stringMatching(
          /^tight\/huge: needs about .+ of disk for tight\/huge \(320\.0 MB on Bitbucket\), but the runner has .+ free; use a runner with more disk.* \[DISK002\]$/
        ),
        notBackedUp('DISK002')
      ])
      expect(statusOf(run)).toEqual({
        't-1': 'backed-up',
        huge: 'failed',
        't-2': 'backed-up',
        't-3': 'backed-up'
      })
      expect(leftOnDisk('tight', 'huge')).toEqual([])
      // Only the run's report, state and logs stay: no partial pack or LFS file under any name.
      expect(await disk!.usedBytes()).toBeLessThan(MiB)
    },
    180_000
  )

  itMounted(
    'a repository whose LFS objects outgrow the disk is refused before git-lfs downloads them',
    async () => {
      bb.clearGitRequests()
      const { run } = await backupOnSmallDisk('lfs')
      expect(run.exitCode).toBe(1)
      expect(errorLines(run)).toEqual([
        expect.stringMatching(
          /^lfs\/lfs-heavy: needs about .+ of disk for lfs\/lfs-heavy's LFS objects, but the runner has .+ free; use a runner with more disk.* \[DISK002\]$/
        ),
        notBackedUp('DISK002')
      ])
      expect(statusOf(run)).toEqual({
        'l-1': 'backed-up',
        'lfs-heavy': 'failed',
        'l-2': 'backed-up',
        'l-3': 'backed-up'
      })
      const downloads = bb.gitRequests.filter(
        r => r.service === 'lfs-download' && r.repository === 'lfs/lfs-heavy'
      )
      expect(downloads).toEqual([])
      expect(leftOnDisk('lfs', 'lfs-heavy')).toEqual([])
      // Only the run's report, state and logs stay: no partial pack or LFS file under any name.
      expect(await disk!.usedBytes()).toBeLessThan(MiB)
    },
    180_000
  )

  itMounted(
    'a pack larger than the disk but listed small fills it: that repository fails with one line, its partial files are removed and the others are backed up',
    async () => {
      bb.setReportedSize('pack', 'pack-heavy', 100 * 1024)
      const sampler = disk!.startSampling(20)
      // One transfer at a time: a neighbour writing while the pack fills the disk would fail too.
      const { run } = await backupOnSmallDisk('pack', { concurrency: '1' })
      // The disk really filled (git wrote until ENOSPC), and was given back for the others. Sampled
      // every 20 ms, the last megabyte before ENOSPC can fall between two samples (31.7 of 32 MiB seen).
      expect((await sampler.stop()).peakUsedBytes).toBeGreaterThan(0.9 * disk!.sizeBytes)
      expect(run.exitCode).toBe(1)
      expect(errorLines(run)).toEqual([
        expect.stringMatching(
          /^pack\/pack-heavy: the runner's disk filled up \(.*\); its partial files were removed and the other repositories go on; give the runner more disk.* \[DISK001\]$/
        ),
        notBackedUp('DISK001')
      ])
      expect(statusOf(run)).toEqual({
        'pack-heavy': 'failed',
        'p-1': 'backed-up',
        'p-2': 'backed-up',
        'p-3': 'backed-up'
      })
      expect(leftOnDisk('pack', 'pack-heavy')).toEqual([])
      // Only the run's report, state and logs stay: no partial pack or LFS file under any name.
      expect(await disk!.usedBytes()).toBeLessThan(MiB)
    },
    180_000
  )

  itMounted(
    'no credential on the small disk, in any artifact, cache entry, log or output',
    async () => {
      for (const entry of rs.cacheEntries) {
        leaks.push(
          ...scanCacheArchive(entry.key, await rs.blobs.read(entry.container, entry.blob), forms)
        )
      }
      for (const [i, run] of runs.entries()) {
        const stdout = run.stdout.replace(/^::add-mask::.*$/gm, '')
        leaks.push(
          ...scanBytes(`stdout ${i}`, Buffer.from(stdout + run.stderr + run.summary), forms)
        )
        leaks.push(...scanBytes(`outputs ${i}`, Buffer.from(JSON.stringify(run.outputs)), forms))
      }
      expect(runs).toHaveLength(5)
      expect(leaks).toEqual([])
    },
    120_000
  )
})
