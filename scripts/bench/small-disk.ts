// `npm run bench -- --scenario=small-disk`: the bundled action backing up a whole workspace to
// artifacts (and the Actions cache) on a runner whose disk is a quarter of the workspace's size:
// its peak disk use, wall time, artifacts and memory.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type {
  GeneratedWorkspace,
  RepositorySpec
} from '../../testkit/bitbucket/generate-workspace.js'
import type { LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { createRepositorySizes } from '../../testkit/bitbucket/repository-size.js'
import { startResultsService } from '../../testkit/results-service/index.js'
import { mountSmallDisk } from '../../testkit/small-disk.js'
import { runBenchAction } from './action.js'
import { mark, MB, seconds } from './format.js'

export const SMALL_DISK_HEADING =
  '## A workspace backed up to artifacts on a disk a quarter of its size'

const WORKSPACE = 'many'
/** The job's artifact limit, the index included (artifact-limit's default). */
const ARTIFACT_LIMIT = 500

export interface SmallDiskOptions {
  specs: RepositorySpec[]
  /** The workspace in words, for the section (the profile's description). */
  description: string
  latencyMs: number
  /** Another bundle in place of dist/index.js. */
  entry?: string
  startBitbucket(): Promise<LocalBitbucket>
  /** Creates and fills the workspace (from another process, so this one stays small). */
  generate(
    bb: LocalBitbucket,
    workspace: string,
    specs: RepositorySpec[],
    seed: string
  ): Promise<GeneratedWorkspace>
  /** The command that ran the scenario, and the machine it ran on, for the section. */
  command: string
  machine: string
}

interface Figures {
  repositories: number
  gitBytes: number
  lfsBytes: number
  tmpfsBytes: number
  sampledPeakBytes: number
  reportedPeakBytes: number
  freeAtStartBytes: number
  wallSeconds: number
  backedUp: number
  failed: number
  artifacts: { alone: number; groups: number; index: number; bytes: number }
  /** Mirrors saved to the Actions cache, and the state's own entries (checkpoints). */
  cacheEntries: { mirrors: number; mirrorBytes: number; state: number }
  peakRssBytes: number
  azuritePeakRssBytes: number | undefined
}

/** Bytes of every file below `dir` (LFS objects of a repository of the local Bitbucket). */
function bytesBelow(dir: string): number {
  if (!fs.existsSync(dir)) return 0
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile())
    .reduce((sum, entry) => sum + fs.statSync(path.join(entry.parentPath, entry.name)).size, 0)
}

/** What the workspace holds upstream: git objects as Bitbucket reports `size`, and LFS objects. */
function upstreamBytes(bb: LocalBitbucket, specs: RepositorySpec[]) {
  const sizes = createRepositorySizes()
  let gitBytes = 0
  let lfsBytes = 0
  for (const { slug } of specs) {
    const upstream = bb.repository(WORKSPACE, slug)!
    gitBytes += sizes.sizeOf(upstream.gitDir)
    lfsBytes += bytesBelow(upstream.lfsDir)
  }
  return { gitBytes, lfsBytes }
}

/** Peak resident memory of this process's Azurite child (it keeps every blob in memory). */
function azuritePeakRss(): number | undefined {
  for (const pid of fs.readdirSync('/proc').filter(name => /^\d+$/.test(name))) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
      if (Number(/^PPid:\s+(\d+)$/m.exec(status)?.[1]) !== process.pid) continue
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('azurite')) continue
      return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024
    } catch {
      // the process ended meanwhile
    }
  }
  return undefined
}

const mb = (bytes: number) => `${Math.round(bytes / MB).toLocaleString('en')} MB`
const share = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`
const count = (value: number) => value.toLocaleString('en')

/** The scenario's section, or undefined when no tmpfs can be mounted here (said on the console). */
export async function smallDisk(options: SmallDiskOptions): Promise<string[] | undefined> {
  const bb = await options.startBitbucket()
  try {
    const started = Date.now()
    await options.generate(bb, WORKSPACE, options.specs, 'many')
    const { gitBytes, lfsBytes } = upstreamBytes(bb, options.specs)
    console.log(
      `bench: ${options.specs.length} repositories ready in ${seconds((Date.now() - started) / 1000)}: ` +
        `${mb(gitBytes)} git, ${mb(lfsBytes)} LFS`
    )
    const disk = await mountSmallDisk(Math.floor((gitBytes + lfsBytes) / 4 / MB))
    if ('skip' in disk) {
      console.log(`bench: scenario small-disk skipped (${disk.skip}); its section stays as it was`)
      return undefined
    }
    const rs = await startResultsService()
    try {
      const runnerDir = path.join(disk.dir, 'runner')
      const home = path.join(disk.dir, 'home')
      fs.mkdirSync(home, { recursive: true })
      const sampler = disk.startSampling()
      let peakUsedBytes = 0
      const run = await runBenchAction(bb, {
        workspace: WORKSPACE,
        runnerDir,
        entry: options.entry,
        // As a GitHub-hosted runner runs it: the defaults (artifact target, cache on), nothing kept.
        inputs: { target: 'artifact', cache: 'true', 'backup-dir': '' },
        env: {
          RUNNER_ENVIRONMENT: 'github-hosted',
          HOME: home,
          ...rs.env({
            runId: 1,
            runnerTemp: path.join(runnerDir, 'temp'),
            workspace: path.join(runnerDir, 'workspace')
          })
        }
      }).finally(async () => ({ peakUsedBytes } = await sampler.stop()))
      const { wallSeconds, report } = run
      const statuses = report.repositories.map(result => String(result.status))
      const artifacts = rs.artifacts
      const index = artifacts.filter(a => a.name.startsWith('bitbucket-backup-index')).length
      const groups = artifacts.filter(a => /-group-\d{3}$/.test(a.name)).length
      const mirrorEntries = rs.cacheEntries.filter(e =>
        e.key.startsWith('bitbucket-backup-mirror-')
      )
      const result: Figures = {
        repositories: options.specs.length,
        gitBytes,
        lfsBytes,
        tmpfsBytes: disk.sizeBytes,
        sampledPeakBytes: peakUsedBytes,
        reportedPeakBytes: report.peakDiskBytes ?? 0,
        freeAtStartBytes: report.freeDiskBytes ?? 0,
        wallSeconds,
        backedUp: statuses.filter(status => status === 'backed-up').length,
        failed: statuses.filter(status => status === 'failed').length,
        artifacts: {
          alone: artifacts.length - groups - index,
          groups,
          index,
          bytes: artifacts.reduce((sum, a) => sum + a.size, 0)
        },
        cacheEntries: {
          mirrors: mirrorEntries.length,
          mirrorBytes: mirrorEntries.reduce((sum, entry) => sum + entry.size, 0),
          state: rs.cacheEntries.length - mirrorEntries.length
        },
        peakRssBytes: report.peakRssBytes,
        azuritePeakRssBytes: azuritePeakRss()
      }
      console.log(`bench: small disk: ${JSON.stringify(result)}`)
      if (result.backedUp !== result.repositories) {
        throw new Error(
          `bench: ${result.backedUp} of ${result.repositories} backed up: ${statuses}`
        )
      }
      return smallDiskSection(options, result)
    } finally {
      await rs.close()
      await disk.unmount()
    }
  } finally {
    await bb.close()
  }
}

function smallDiskSection(options: SmallDiskOptions, f: Figures): string[] {
  const workspaceBytes = f.gitBytes + f.lfsBytes
  const artifacts = f.artifacts.alone + f.artifacts.groups + f.artifacts.index
  const peak = Math.max(f.sampledPeakBytes, f.reportedPeakBytes)
  return [
    SMALL_DISK_HEADING,
    '',
    `${options.description}, on the local Bitbucket, which waits ${options.latencyMs} ms before every response; ` +
      'the local results service (Azurite, in memory) takes the artifacts and the Actions cache. The bundled ' +
      'action runs as a GitHub-hosted runner runs it, with `RUNNER_TEMP`, `GITHUB_WORKSPACE` and `HOME` on a tmpfs ' +
      "of a quarter of the workspace's bytes (`testkit/small-disk.ts`), with the inputs' defaults: " +
      'target `artifact`, `cache: true` (each mirror is saved to the Actions cache as well), concurrency ' +
      `and \`artifact-limit\` (${ARTIFACT_LIMIT}). One full first run. ${options.machine} Reproduce: ` +
      `\`${options.command}\` (as root, to mount the tmpfs); a run without that scenario keeps this section as it was.`,
    '',
    '| figure | value |',
    '| --- | ---: |',
    `| workspace on the local Bitbucket: git objects (its \`size\`) + LFS objects | ${mb(workspaceBytes)} (${mb(f.gitBytes)} + ${mb(f.lfsBytes)}) |`,
    `| the runner's disk: a tmpfs | ${mb(f.tmpfsBytes)} (${share(f.tmpfsBytes, workspaceBytes)} of the workspace) |`,
    `| peak disk used, the bench's statfs of the tmpfs every 50 ms | ${mb(f.sampledPeakBytes)} (${share(f.sampledPeakBytes, f.tmpfsBytes)} of the tmpfs, ${share(f.sampledPeakBytes, workspaceBytes)} of the workspace) |`,
    `| peak disk used, the report's \`peakDiskBytes\` (the action's own statfs every second) | ${mb(f.reportedPeakBytes)} (${share(f.reportedPeakBytes, f.tmpfsBytes)} of the tmpfs) |`,
    `| free at the start, the report's \`freeDiskBytes\` | ${mb(f.freeAtStartBytes)} |`,
    `| wall time | ${seconds(f.wallSeconds)} |`,
    `| repositories backed up | ${count(f.backedUp)} of ${count(f.repositories)}, ${f.failed} failed |`,
    `| artifacts uploaded | ${artifacts} of the job's ${ARTIFACT_LIMIT}: ${f.artifacts.alone} repositories alone, ${f.artifacts.groups} groups, ${f.artifacts.index} index; ${mb(f.artifacts.bytes)} |`,
    `| Actions cache entries saved | ${f.cacheEntries.mirrors.toLocaleString('en')} mirrors, ${mb(f.cacheEntries.mirrorBytes)}; ${f.cacheEntries.state} of the state (checkpoints) |`,
    `| peak memory of the action | ${mb(f.peakRssBytes)} |`,
    `| peak memory of Azurite (every artifact and cache entry in memory) | ${f.azuritePeakRssBytes ? mb(f.azuritePeakRssBytes) : 'unknown'} |`,
    '',
    `Goals: every repository backed up on a disk a quarter of the workspace: ${count(f.backedUp)} of ${count(f.repositories)}, ` +
      `${mark(f.backedUp === f.repositories && f.failed === 0)}; at most ${ARTIFACT_LIMIT} artifacts: ${artifacts}, ` +
      `${mark(artifacts <= ARTIFACT_LIMIT)}; peak disk within the tmpfs: ${share(peak, f.tmpfsBytes)}, ${mark(peak < f.tmpfsBytes)}.`,
    '',
    'Where the disk goes: each transfer in flight (8 by default) holds its mirror and, in turn, the',
    "artifact's staged bundle (LFS objects are hard-linked into it, so they cost nothing) and the cache",
    "archive (as large as the mirror: the content is incompressible); a group's staged files wait on disk",
    'until the group is uploaded, at most an eighth of the free disk. The disk gate (`src/backup/disk.ts`)',
    "reserves a repository's share before its transfer (Bitbucket's `size`, git only), grows it once the",
    'LFS objects are known, and makes work wait while the free space cannot cover it.',
    '',
    'What the scenario found, at 100 repositories (a 77 MB tmpfs, the largest repository needing 70 MB',
    'at its peak), fixed since: the run ended half-way with exit code 13 and no report, because every',
    "repository in flight waited in the disk gate on unref'd timers, so Node saw nothing left to do; the",
    "git data already on disk was reserved a second time when a repository's LFS objects were; and a",
    'repository refused while others held the disk failed ("LFS objects missing or damaged") where it',
    'fitted alone: it now goes again once they have finished.',
    ''
  ]
}
