// `npm run bench`: figures, not pass/fail tests. Runs the bundled action as the runner runs it
// against the local Bitbucket (and, for artifacts, the results service), beside raw git's floor,
// and writes docs/benchmarks.md.
//
//   --scenario=comparison,no-change,no-change-tiny   (default) the mixed workspace: action vs raw git
//                                     vs the seed's approach; then 1,000 repositories of the same mix:
//                                     full, no change, 5% changed (with raw ls-remote beside them);
//                                     then 1,000 tiny repositories, the same runs (the worst case)
//   --scenario=large-artifact         one 1 GB repository to the artifact target (peak memory)
//   --scenario=memory-objects         peak memory and time for a repository of few objects and one of
//                                     many (scripts/bench-memory-objects.ts); --objects=10000,100000,1000000
//                                     --before=path/to/index.js (another bundle measured beside it)
//   --scenario=small-disk             the 1,000 repositories of the mixed workspace's sizes to artifacts and
//                                     the cache on a tmpfs a quarter of their size (scripts/bench-small-disk.ts;
//                                     root only); --repositories=N for another count
//   --latency-ms=40 --runs=3 --small=40 --medium=15 --large=5 --repositories=1000
//   --changed-percent=5 --concurrency=N (default: the action's default) --out=docs/benchmarks.md
//   --size-mb=1024 --target=artifact  (large-artifact)
//   --entry=path/to/index.js          another bundle in place of dist/index.js (before/after figures)
import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { node24Binary } from '../testkit/action-runner.js'
import { workingCopy } from '../testkit/bitbucket/fixtures.js'
import {
  addCommits,
  registerWorkspace,
  workspaceTotals,
  mixedWorkspaceClasses,
  planRepositories,
  smallRepositoriesClass,
  type RepositorySpec
} from '../testkit/bitbucket/generate-workspace.js'
import { startLocalBitbucket, type LocalBitbucket } from '../testkit/bitbucket/index.js'
import { startResultsService } from '../testkit/results-service/index.js'
import { checkConcurrency, DEFAULT_CONCURRENCY } from '../src/shared/constants.js'
import { createRefAdvertisementClient } from '../src/git/ref-advertisement.js'
import { addBenchCredential, BENCH_EMAIL, BENCH_TOKEN, runBenchAction } from './bench-action.js'
import { MEMORY_OBJECTS_HEADING, memoryObjects } from './bench-memory-objects.js'
import { SMALL_DISK_HEADING, smallDisk } from './bench-small-disk.js'

const MB = 1024 * 1024
const args = new Map(
  process.argv.slice(2).map(arg => {
    const [key, value] = arg.replace(/^--/, '').split('=')
    return [key, value ?? 'true']
  })
)
const numberArg = (name: string, fallback: number) => {
  const value = Number(args.get(name) ?? fallback)
  if (!Number.isFinite(value) || value < 0) throw new Error(`bench: --${name} must be a number`)
  return value
}
const scenarios = new Set(
  (args.get('scenario') ?? 'comparison,no-change,no-change-tiny').split(',')
)
const known = new Set([
  'comparison',
  'no-change',
  'no-change-tiny',
  'large-artifact',
  'memory-objects',
  'small-disk'
])
for (const scenario of scenarios) {
  if (!known.has(scenario)) throw new Error(`bench: unknown scenario ${scenario} (${[...known]})`)
}
const latencyMs = numberArg('latency-ms', 40)
const runs = Math.max(1, numberArg('runs', 3))
const counts = {
  small: numberArg('small', 40),
  medium: numberArg('medium', 15),
  large: numberArg('large', 5)
}
const manyCount = numberArg('repositories', 1000)
const changedPercent = numberArg('changed-percent', 5)
const concurrencyInput = args.get('concurrency')
const concurrency = Number(concurrencyInput ?? DEFAULT_CONCURRENCY)
const repositoryMb = numberArg('size-mb', 1024)
const output = path.resolve(args.get('out') ?? 'docs/benchmarks.md')
const target = args.get('target') ?? 'artifact'
const entry = args.get('entry') ? path.resolve(args.get('entry')!) : undefined
const benchGit = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-git.sh')
const benchGenerate = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-generate.ts')

const restAuthorization = `Basic ${Buffer.from(`${BENCH_EMAIL}:${BENCH_TOKEN}`).toString('base64')}`
const gitAuthorization = `Basic ${Buffer.from(`x-bitbucket-api-token-auth:${BENCH_TOKEN}`).toString('base64')}`

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const formatMb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
const seconds = (value: number) => `${value.toFixed(1)} s`

/** What one run cost, read from the local Bitbucket's request logs. */
interface Traffic {
  wallSeconds: number
  restRequests: number
  gitRequests: number
  /** upload-pack requests that transferred a pack (`fetch` commands). */
  packFetches: number
  lfsDownloads: number
  /** Ref advertisements the local Bitbucket answered from its cache (refs unchanged since git answered). */
  cachedAdvertisements: number
  /** responseBytes of upload-pack, LFS batch and LFS storage requests (the brief's "bytes fetched"). */
  packAndLfsBytes: number
  /** The same plus the ref advertisements (info/refs) every ls-remote, clone and fetch reads. */
  allGitBytes: number
  peakRssBytes?: number
}

function trafficOf(bb: LocalBitbucket, wallSeconds: number): Traffic {
  const git = bb.gitRequests
  const sum = (requests: typeof git) => requests.reduce((total, r) => total + r.responseBytes, 0)
  return {
    wallSeconds,
    restRequests: bb.requests.length,
    gitRequests: git.length,
    packFetches: git.filter(r => r.service === 'upload-pack' && r.command === 'fetch').length,
    lfsDownloads: git.filter(r => r.service === 'lfs-download' && r.status === 200).length,
    cachedAdvertisements: git.filter(r => r.cached).length,
    packAndLfsBytes: sum(
      git.filter(r => ['upload-pack', 'lfs-batch', 'lfs-download'].includes(r.service))
    ),
    allGitBytes: sum(git)
  }
}

/**
 * Before each measured run: write back what earlier steps left dirty (generated repositories,
 * the last run's mirrors), so no run pays for another's disk writes; then clear the request logs.
 */
function clearLogs(bb: LocalBitbucket) {
  execFileSync('sync')
  bb.clearRequests()
  bb.clearGitRequests()
}

/** The bundled action on Node 24, directory target, no cache: a full backup unless state is kept. */
async function measureAction(
  bb: LocalBitbucket,
  workspace: string,
  runnerDir: string,
  extraInputs: Record<string, string> = {}
) {
  clearLogs(bb)
  const { run, wallSeconds, report } = await runBenchAction(bb, {
    workspace,
    runnerDir,
    entry,
    inputs: { ...(concurrencyInput ? { concurrency: concurrencyInput } : {}), ...extraInputs }
  })
  return { ...trafficOf(bb, wallSeconds), peakRssBytes: report.peakRssBytes, run }
}

type ShellMode = 'floor' | 'seed' | 'ls-remote'

/** scripts/bench-git.sh in one of its modes, into a fresh directory; `tuned`: the action's settings. */
async function measureShell(bb: LocalBitbucket, workspace: string, mode: ShellMode, tuned = false) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bbb-bench-${mode}-`))
  const headerFile = path.join(dir, 'rest-header')
  fs.writeFileSync(headerFile, `Authorization: ${restAuthorization}\n`)
  clearLogs(bb)
  const started = Date.now()
  try {
    const result = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      // Not execFileSync: the local Bitbucket answers from this process's event loop.
      const child = spawn('bash', [benchGit, mode], {
        env: {
          ...process.env,
          API_URL: bb.apiUrl,
          WORKSPACE: workspace,
          REST_HEADER_FILE: headerFile,
          GIT_ORIGIN: bb.origin,
          GIT_AUTHORIZATION: gitAuthorization,
          OUT_DIR: path.join(dir, 'out'),
          CONCURRENCY: String(concurrency),
          ...(tuned ? { TRANSFER: 'action' } : {})
        },
        stdio: ['ignore', 'ignore', 'pipe']
      })
      let stderr = ''
      child.stderr.on('data', chunk => (stderr += chunk))
      child.on('error', reject)
      child.on('close', code => resolve({ code: code ?? -1, stderr }))
    })
    const wallSeconds = (Date.now() - started) / 1000
    if (result.code !== 0) throw new Error(`bench: raw git (${mode}) failed:\n${result.stderr}`)
    return trafficOf(bb, wallSeconds)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Creates the workspace in the local Bitbucket and fills it from another process
 * (scripts/bench-generate.ts), so the generator's memory stays out of the serving process.
 */
async function generateApart(
  bb: LocalBitbucket,
  workspace: string,
  repositories: RepositorySpec[],
  seed: string
) {
  const jobs = registerWorkspace(bb, workspace, repositories)
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', benchGenerate], {
      stdio: ['pipe', 'inherit', 'inherit']
    })
    child.on('error', reject)
    child.on('close', code =>
      code === 0 ? resolve() : reject(new Error(`bench: generating ${workspace} failed (${code})`))
    )
    child.stdin.end(JSON.stringify({ jobs, seed }))
  })
  return workspaceTotals(workspace, repositories)
}

async function startBench(refAdvertisementCache: boolean): Promise<LocalBitbucket> {
  const bb = await startLocalBitbucket({ latencyMs, refAdvertisementCache })
  addBenchCredential(bb)
  return bb
}

// ---------------------------------------------------------------------------------------------
// 1 + 2: the mixed workspace, three ways, alternating.

interface Approach {
  key: 'action' | 'floor' | 'floor-v0' | 'seed'
  label: string
  samples: Traffic[]
}

interface Comparison {
  repositories: number
  gitMb: number
  lfsMb: number
  generateSeconds: number
  approaches: Approach[]
}

async function comparison(): Promise<Comparison> {
  // Every approach clones what it has never seen: git answers every request, as in the first figures.
  const bb = await startBench(false)
  try {
    const started = Date.now()
    const generated = await generateApart(
      bb,
      'bench',
      planRepositories(mixedWorkspaceClasses(counts)),
      'bench'
    )
    const generateSeconds = (Date.now() - started) / 1000
    console.log(
      `bench: mixed workspace ready in ${seconds(generateSeconds)}: ${generated.repositories.length} repositories, ` +
        `${formatMb(generated.gitBytes)} git, ${formatMb(generated.lfsBytes)} LFS`
    )
    const approaches: Approach[] = [
      {
        key: 'action',
        label: `the action (${entry ? path.relative(process.cwd(), entry) : 'dist/index.js'} on Node 24)`,
        samples: []
      },
      { key: 'floor', label: "raw git's floor (`scripts/bench-git.sh floor`)", samples: [] },
      {
        key: 'floor-v0',
        label: "raw git's floor with the action's transfer settings (`TRANSFER=action`)",
        samples: []
      },
      { key: 'seed', label: "the seed's approach (`scripts/bench-git.sh seed`)", samples: [] }
    ]
    for (let run = 0; run < runs; run++) {
      // Alternating: each approach goes first, second, third and last in turn.
      const order = approaches.map((_, i) => approaches[(i + run) % approaches.length])
      for (const approach of order) {
        let sample: Traffic
        if (approach.key === 'action') {
          const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-action-'))
          try {
            sample = await measureAction(bb, 'bench', runnerDir)
          } finally {
            fs.rmSync(runnerDir, { recursive: true, force: true })
          }
        } else if (approach.key === 'floor-v0') {
          sample = await measureShell(bb, 'bench', 'floor', true)
        } else {
          sample = await measureShell(bb, 'bench', approach.key)
        }
        approach.samples.push(sample)
        console.log(
          `bench: run ${run + 1}/${runs} ${approach.key}: ${seconds(sample.wallSeconds)}, ` +
            `${sample.restRequests} REST, ${sample.gitRequests} git requests, ${sample.lfsDownloads} LFS downloads` +
            (sample.peakRssBytes ? `, peak ${formatMb(sample.peakRssBytes)}` : '')
        )
      }
    }
    return {
      repositories: generated.repositories.length,
      gitMb: generated.gitBytes / MB,
      lfsMb: generated.lfsBytes / MB,
      generateSeconds,
      approaches
    }
  } finally {
    await bb.close()
  }
}

// ---------------------------------------------------------------------------------------------
// 3: 1,000 small repositories with state kept between runs.

/** The workspace of a no-change scenario. */
interface ManyProfile {
  key: 'many' | 'tiny'
  heading: string
  description: string
  specs: RepositorySpec[]
  /** Also time raw `git ls-remote` of every repository (the check's floor). */
  baselines: boolean
}

function manyProfiles(): ManyProfile[] {
  // The mixed workspace's proportions (2/3 small, 1/4 medium, 1/12 large with LFS) at manyCount.
  const small = Math.round(
    (manyCount * counts.small) / (counts.small + counts.medium + counts.large)
  )
  const large = Math.round(
    (manyCount * counts.large) / (counts.small + counts.medium + counts.large)
  )
  const mix = planRepositories(
    mixedWorkspaceClasses({ small, medium: manyCount - small - large, large }),
    'many'
  )
  const gitMb = mix.reduce((sum, spec) => sum + spec.gitBytes, 0) / MB
  const lfsMb = mix.reduce((sum, spec) => sum + spec.lfsBytes, 0) / MB
  return [
    {
      key: 'many',
      heading: `${manyCount.toLocaleString('en')} repositories of the mixed workspace's sizes`,
      description:
        `${manyCount.toLocaleString('en')} repositories in the mixed workspace's proportions and sizes ` +
        `(${small} small, ${manyCount - small - large} medium, ${large} large with LFS; ` +
        `${(gitMb / 1024).toFixed(2)} GB of git and ${(lfsMb / 1024).toFixed(2)} GB of LFS, ` +
        `${((gitMb + lfsMb) / manyCount) | 0 || '<1'} MB a repository on average)`,
      specs: mix,
      baselines: true
    },
    {
      key: 'tiny',
      heading: `${manyCount.toLocaleString('en')} tiny repositories (the worst case for the no-change share)`,
      description:
        `${manyCount.toLocaleString('en')} repositories of 10 to 50 KB (two commits and a branch each), ` +
        'where a full clone costs little more than a ref check',
      specs: planRepositories(smallRepositoriesClass(manyCount), 'tiny'),
      baselines: false
    }
  ]
}

interface NoChange {
  profile: ManyProfile
  repositories: number
  changed: number
  full: Traffic
  unchanged: Traffic[]
  someChanged: Traffic[]
  /** Raw `git ls-remote` of every repository, git's default protocol and v0. */
  lsRemote: Traffic[]
  lsRemoteV0: Traffic[]
  /** The action with `dry-run: true`: its start, state and the listing, without any check. */
  listingOnly: Traffic[]
  /** Every repository's ref advertisement fetched by a bare Node client: the stand-in's own floor. */
  advertisementsOnly: Traffic[]
  /** The same with the stand-in's ref advertisement cache off: git started for every request. */
  advertisementsUncached: Traffic[]
  /** The no-change run against the stand-in without its cache. */
  unchangedUncached: Traffic[]
  /** Resident memory of this process, which serves the local Bitbucket, after the full run. */
  serverRssBytes: number
}

/** Every repository's ref advertisement from this process, `checkConcurrency` in flight. */
async function measureAdvertisements(bb: LocalBitbucket, workspace: string, slugs: string[]) {
  const client = createRefAdvertisementClient({
    authorization: async () => gitAuthorization,
    maxSockets: checkConcurrency(concurrency)
  })
  clearLogs(bb)
  const started = Date.now()
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: checkConcurrency(concurrency) }, async () => {
        while (next < slugs.length) {
          const slug = slugs[next++]
          if (!(await client.advertisedRefs(`${bb.origin}/${workspace}/${slug}.git`))) {
            throw new Error(`bench: no ref advertisement for ${slug}`)
          }
        }
      })
    )
  } finally {
    client.close()
  }
  return trafficOf(bb, (Date.now() - started) / 1000)
}

async function noChange(profile: ManyProfile): Promise<NoChange> {
  const bb = await startBench(true)
  const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-state-'))
  try {
    const repositories = profile.specs
    const started = Date.now()
    await generateApart(bb, 'many', repositories, profile.key)
    console.log(
      `bench: ${repositories.length} repositories (${profile.key}) ready in ${seconds((Date.now() - started) / 1000)}`
    )
    const full = await measureAction(bb, 'many', runnerDir)
    const serverRssBytes = process.memoryUsage().rss
    console.log(
      `bench: full run ${seconds(full.wallSeconds)}, ${full.restRequests} REST, ${full.gitRequests} git requests`
    )
    const unchanged: Traffic[] = []
    const someChanged: Traffic[] = []
    const lsRemote: Traffic[] = []
    const lsRemoteV0: Traffic[] = []
    const listingOnly: Traffic[] = []
    const advertisementsOnly: Traffic[] = []
    const advertisementsUncached: Traffic[] = []
    const unchangedUncached: Traffic[] = []
    /** Runs `measure` with the stand-in starting git for every ref advertisement. */
    const uncached = async <T>(measure: () => Promise<T>): Promise<T> => {
      bb.refAdvertisementCache = false
      try {
        return await measure()
      } finally {
        bb.refAdvertisementCache = true
      }
    }
    const changed = Math.max(1, Math.round((manyCount * changedPercent) / 100))
    for (let run = 0; run < runs; run++) {
      const quietRun = async (label: string, samples: Traffic[]) => {
        const quiet = await measureAction(bb, 'many', runnerDir)
        if (quiet.run.outputs.unchanged !== String(manyCount)) {
          throw new Error(
            `bench: expected ${manyCount} unchanged, got ${quiet.run.outputs.unchanged}`
          )
        }
        samples.push(quiet)
        console.log(
          `bench: ${label} ${run + 1}/${runs}: ${seconds(quiet.wallSeconds)}, ${quiet.restRequests} REST, ` +
            `${quiet.gitRequests} git requests (${quiet.cachedAdvertisements} from the cache), ` +
            `${quiet.packFetches} pack fetches`
        )
      }
      const steps: (() => Promise<void>)[] = [() => quietRun('no-change run', unchanged)]
      if (profile.baselines) {
        const slugs = repositories.map(spec => spec.slug)
        steps.push(() => uncached(() => quietRun('no-change run, no cache', unchangedUncached)))
        steps.push(async () => {
          advertisementsOnly.push(await measureAdvertisements(bb, 'many', slugs))
          console.log(
            `bench: ref advertisements only ${seconds(advertisementsOnly[advertisementsOnly.length - 1].wallSeconds)}`
          )
        })
        steps.push(async () => {
          const sample = await uncached(() => measureAdvertisements(bb, 'many', slugs))
          advertisementsUncached.push(sample)
          console.log(`bench: ref advertisements only, no cache ${seconds(sample.wallSeconds)}`)
        })
        steps.push(async () => {
          listingOnly.push(await measureAction(bb, 'many', runnerDir, { 'dry-run': 'true' }))
          console.log(
            `bench: listing only ${seconds(listingOnly[listingOnly.length - 1].wallSeconds)}`
          )
        })
        steps.push(async () => {
          lsRemote.push(await measureShell(bb, 'many', 'ls-remote'))
          console.log(`bench: raw ls-remote ${seconds(lsRemote[lsRemote.length - 1].wallSeconds)}`)
        })
        steps.push(async () => {
          lsRemoteV0.push(await measureShell(bb, 'many', 'ls-remote', true))
          console.log(
            `bench: raw ls-remote v0 ${seconds(lsRemoteV0[lsRemoteV0.length - 1].wallSeconds)}`
          )
        })
      }
      // Alternating, as above.
      for (let i = 0; i < steps.length; i++) await steps[(i + run) % steps.length]()
      // A different slice each time: repositories spread over the listing.
      const step = Math.floor(manyCount / changed)
      const slugs = Array.from(
        { length: changed },
        (_, i) => repositories[(i * step + run) % manyCount].slug
      )
      await addCommits(bb, 'many', slugs, { label: `change-${run + 1}` })
      const some = await measureAction(bb, 'many', runnerDir)
      if (some.run.outputs['backed-up'] !== String(changed)) {
        throw new Error(
          `bench: expected ${changed} backed up, got ${some.run.outputs['backed-up']}`
        )
      }
      someChanged.push(some)
      console.log(
        `bench: ${changed} changed, run ${run + 1}/${runs}: ${seconds(some.wallSeconds)}, ` +
          `${formatMb(some.packAndLfsBytes)} pack+LFS bytes, ${some.packFetches} pack fetches`
      )
    }
    return {
      profile,
      repositories: manyCount,
      changed,
      full,
      unchanged,
      someChanged,
      lsRemote,
      lsRemoteV0,
      listingOnly,
      advertisementsOnly,
      advertisementsUncached,
      unchangedUncached,
      serverRssBytes
    }
  } finally {
    await bb.close()
    fs.rmSync(runnerDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// The 1 GB repository to the artifact target (peak memory while uploading).

interface LargeArtifact {
  scenario: string
  wallSeconds: number
  peakRssMb: number
  detail: string
}

async function largeRepositoryToArtifact(): Promise<LargeArtifact> {
  const bb = await startLocalBitbucket()
  const rs = await startResultsService()
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-'))
  try {
    bb.createWorkspace('bench')
    addBenchCredential(bb)
    bb.addRepository('bench', 'large')
    // Roughly 40% git (incompressible blobs over many commits) and 60% LFS, like a game or ML repo.
    const wc = await workingCopy(bb, 'bench', 'large')
    const gitMb = Math.round(repositoryMb * 0.4)
    const lfsMb = repositoryMb - gitMb
    for (let i = 0; i < gitMb / 8; i++) {
      wc.write(`data/blob-${i}.bin`, randomBytes(8 * MB))
      if (i % 8 === 7) await wc.commit(`data ${i}`)
    }
    await wc.commit('data')
    for (let i = 0; i < lfsMb / 64; i++) wc.writeLfs(`assets/asset-${i}.bin`, randomBytes(64 * MB))
    await wc.commit('assets')
    await wc.push()
    fs.rmSync(wc.dir, { recursive: true, force: true })
    console.log(`bench: upstream ready (${gitMb} MB git, ${lfsMb} MB LFS)`)

    const runnerDir = path.join(base, 'runner')
    fs.mkdirSync(runnerDir)
    const { wallSeconds, report } = await runBenchAction(bb, {
      workspace: 'bench',
      runnerDir,
      entry,
      inputs: { target },
      env: rs.env({
        runId: 1,
        runnerTemp: path.join(runnerDir, 'temp'),
        workspace: path.join(runnerDir, 'workspace')
      })
    })
    const uploaded = rs.artifacts.reduce((sum, artifact) => sum + artifact.size, 0)
    return {
      scenario: `one ${repositoryMb} MB repository (${gitMb} MB git, ${lfsMb} MB LFS), target ${target}`,
      wallSeconds,
      peakRssMb: Math.round(report.peakRssBytes / MB),
      detail: `${Math.round(uploaded / MB)} MB uploaded in ${rs.artifacts.length} artifacts`
    }
  } finally {
    await bb.close()
    await rs.close()
    fs.rmSync(base, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// docs/benchmarks.md

function version(command: string, commandArgs: string[]): string {
  try {
    return execFileSync(command, commandArgs).toString().trim().split('\n')[0]
  } catch {
    return 'unknown'
  }
}

function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
  let distribution = ''
  try {
    const release = fs.readFileSync('/etc/os-release', 'utf8')
    distribution = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] ?? ''
  } catch {
    // not Linux
  }
  const lfs = version('git', ['lfs', 'version']).replace(/ \(.*$/, '')
  return (
    `Machine: ${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, ` +
    `${distribution ? `${distribution}, ` : ''}${os.platform()} ${os.release()}; ` +
    `the action on Node ${version(node24Binary(), ['--version']).replace(/^v/, '')}, the bench on Node ${process.versions.node}; ` +
    `${version('git', ['--version'])}, ${lfs}; measured ${new Date().toISOString().slice(0, 10)}.`
  )
}

function reproduceCommand(): string {
  const flags = process.argv.slice(2).filter(arg => !arg.startsWith('--out='))
  return `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`
}

const mark = (met: boolean) => (met ? 'met' : '**not met**')

function comparisonSection(c: Comparison): string[] {
  const floor = median(c.approaches.find(a => a.key === 'floor')!.samples.map(s => s.wallSeconds))
  const action = c.approaches.find(a => a.key === 'action')!
  const actionSeconds = median(action.samples.map(s => s.wallSeconds))
  const peak = Math.max(...action.samples.map(s => s.peakRssBytes ?? 0))
  const rows = c.approaches.map(approach => {
    const wall = approach.samples.map(s => s.wallSeconds)
    const m = (pick: (s: Traffic) => number) => Math.round(median(approach.samples.map(pick)))
    const memory = approach.samples[0].peakRssBytes
      ? formatMb(median(approach.samples.map(s => s.peakRssBytes ?? 0)))
      : '(git only)'
    return (
      `| ${approach.label} | ${seconds(median(wall))} (${seconds(Math.min(...wall))} to ${seconds(Math.max(...wall))}) ` +
      `| ${(median(wall) / floor).toFixed(2)}× | ${memory} | ${m(s => s.restRequests)} | ${m(s => s.gitRequests)} ` +
      `| ${m(s => s.packFetches)} | ${m(s => s.lfsDownloads)} |`
    )
  })
  return [
    `## A mixed workspace: the action beside raw git`,
    '',
    `${c.repositories} repositories (${counts.small} small of 0.1 to 0.4 MB, ${counts.medium} medium of 1.5 to 2.5 MB, ` +
      `${counts.large} large of 8 to 12 MB git with 16 to 24 MB of LFS in 6 objects, one only on a branch), ` +
      `${c.gitMb.toFixed(0)} MB of git and ${c.lfsMb.toFixed(0)} MB of LFS, incompressible, several commits, ` +
      `branches and tags each (\`testkit/bitbucket/generate-workspace.ts\`, generated in ${seconds(c.generateSeconds)}). ` +
      `The local Bitbucket waits ${latencyMs} ms before every response (REST, git and LFS storage). ` +
      `Concurrency ${concurrency} for the action and for raw git's floor. ` +
      `Medians of ${runs} runs each, the approaches alternating (each goes first in turn), dirty pages ` +
      'written back (`sync`) before every run.',
    '',
    '- **the action**: `runAction` as the runner runs it, target `directory`, a fresh `backup-dir` and `cache: false` each run (a full backup).',
    "- **raw git's floor**: listing with `pagelen=100` (curl, following `next`), then `git clone --mirror` + `git lfs fetch --all` per repository, `xargs -P`, the credential in a `GIT_CONFIG_COUNT` extraheader.",
    "- **the seed's approach**: listing with default paging (10 a page), then `git clone --bare` + `git lfs fetch --all`, one repository after another.",
    '',
    '| approach | wall time, median (range) | × raw git | peak memory of the action | REST requests | git requests | pack transfers | LFS downloads |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Goals: full backup at most 0.85× raw git's floor: ${(actionSeconds / floor).toFixed(2)}×, ${mark(actionSeconds <= 0.85 * floor)}; ` +
      `peak memory under 200 MB: ${formatMb(peak)}, ${mark(peak < 200 * MB)}.`,
    ''
  ]
}

function noChangeSection(n: NoChange): string[] {
  const quiet = n.unchanged
  const some = n.someChanged
  const m = (samples: Traffic[], pick: (s: Traffic) => number) => median(samples.map(pick))
  const pct = (part: number, whole: number) => {
    const value = (100 * part) / whole
    // Small shares keep two significant digits (0.0031%), so "0.0%" never hides a real cost.
    return `${value > 0 && value < 0.1 ? value.toPrecision(2) : value.toFixed(1)}%`
  }
  const row = (label: string, samples: Traffic[]) =>
    `| ${label} | ${seconds(m(samples, s => s.wallSeconds))} | ${pct(
      m(samples, s => s.wallSeconds),
      n.full.wallSeconds
    )} ` +
    `| ${Math.round(m(samples, s => s.restRequests))} | ${Math.round(m(samples, s => s.gitRequests))} ` +
    `| ${Math.round(m(samples, s => s.packFetches))} | ${formatMb(m(samples, s => s.packAndLfsBytes))} ` +
    `(${pct(
      m(samples, s => s.packAndLfsBytes),
      n.full.packAndLfsBytes
    )}) ` +
    `| ${formatMb(m(samples, s => s.allGitBytes))} (${pct(
      m(samples, s => s.allGitBytes),
      n.full.allGitBytes
    )}) ` +
    `| ${samples[0].peakRssBytes ? formatMb(m(samples, s => s.peakRssBytes ?? 0)) : '(git only)'} |`
  const quietTime = m(quiet, s => s.wallSeconds)
  const quietRest = m(quiet, s => s.restRequests)
  const quietPacks = Math.max(...quiet.map(s => s.packFetches))
  const someBytes = m(some, s => s.packAndLfsBytes) / n.full.packAndLfsBytes
  return [
    `## ${n.profile.heading}: full, no change, ${changedPercent}% changed`,
    '',
    `${n.profile.description}; ${latencyMs} ms per response, ` +
      `the action's default concurrency${concurrencyInput ? ` overridden to ${concurrencyInput}` : ` (${concurrency} transfers, ${checkConcurrency(concurrency)} ref checks)`}, ` +
      `target \`directory\` with the same \`backup-dir\` and runner directory throughout, \`cache: false\`. ` +
      `One full first run, then ${runs} rounds of: a run with no change upstream${n.profile.baselines ? ' (and, alternating with it, the baselines below)' : ''}, then a run after ` +
      `${n.changed} repositories (${changedPercent}%, a different slice each round) gained a commit with a new 2 KB file. ` +
      `"Pack + LFS bytes" sums the response bodies of upload-pack, LFS batch and LFS storage requests; ` +
      `"all git bytes" adds the ref advertisements (info/refs).`,
    '',
    '| run | wall time (median) | % of the full run | REST requests | git requests | pack transfers | pack + LFS bytes (% of full) | all git bytes (% of full) | peak memory of the action |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('full first run', [n.full]),
    row('no change', quiet),
    ...(n.profile.baselines
      ? [
          row(
            'no change, the local Bitbucket starting git for every ref advertisement (its cache off)',
            n.unchangedUncached
          ),
          row(
            'the action listing only (`dry-run: true`: start, state, listing, no check)',
            n.listingOnly
          ),
          row(
            'raw git: `ls-remote` each repository (`scripts/bench-git.sh ls-remote`)',
            n.lsRemote
          ),
          row('raw git: the same on protocol v0 (`TRANSFER=action`)', n.lsRemoteV0)
        ]
      : []),
    row(`${n.changed} changed`, some),
    '',
    `Goals: no-change run at most 11 REST requests: ${quietRest}, ${mark(quietRest <= 11)}; ` +
      `no pack transfer: ${quietPacks}, ${mark(quietPacks === 0)}; ` +
      `at most 5% of the full run's time: ${pct(quietTime, n.full.wallSeconds)}, ${mark(quietTime <= 0.05 * n.full.wallSeconds)}; ` +
      `${changedPercent}% changed fetches at most 2% of a full backup's bytes: ${pct(someBytes, 1)}, ${mark(someBytes <= 0.02)}.`,
    ''
  ]
}

const LARGE_ARTIFACT_HEADING = '## One large repository to the artifact target'

function largeArtifactSection(figures: LargeArtifact[]): string[] {
  return [
    LARGE_ARTIFACT_HEADING,
    '',
    'The bundled action against the local Bitbucket (no added latency) and the local results service',
    `(Azurite). Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} CPUs and ` +
      `${Math.round(os.totalmem() / 1024 ** 3)} GB RAM with \`npm run bench -- --scenario=large-artifact` +
      `${repositoryMb === 1024 ? '' : ` --size-mb=${repositoryMb}`}\`; a run without that scenario keeps this section as it was.`,
    '',
    '| scenario | wall time | peak memory of the action | detail |',
    '| --- | ---: | ---: | --- |',
    ...figures.map(
      f => `| ${f.scenario} | ${f.wallSeconds.toFixed(1)} s | ${f.peakRssMb} MB | ${f.detail} |`
    ),
    '',
    'What the memory figure taught us: about 110 MB is Node 24 with the bundle loaded; shipping',
    'source maps cost 85 MB more (the first stack trace parsed the 8 MB map), so `dist/` has none;',
    'each upload block in flight holds 8 MB, so uploads run one block at a time',
    '(`ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY` overrides it); files are hashed through one reused buffer.',
    "The peak is read from `/proc/self/status` (VmHWM): getrusage carries a parent's peak across exec.",
    ''
  ]
}

/** A section of the existing output file, kept when its scenario did not run this time. */
function keptSection(heading: string): string[] {
  const text = fs.existsSync(output) ? fs.readFileSync(output, 'utf8') : ''
  const start = text.indexOf(`\n${heading}\n`)
  if (start < 0) return []
  const rest = text.slice(start + 1)
  const next = rest.indexOf('\n## ')
  return [...(next < 0 ? rest : rest.slice(0, next)).trimEnd().split('\n'), '']
}

/** The text with each heading's section replaced by new lines (or added at the end). */
function withSections(text: string, replacements: Map<string, string[]>): string {
  let result = text
  for (const [heading, lines] of replacements) {
    const start = result.indexOf(`\n${heading}\n`)
    if (start < 0) {
      result = `${result.trimEnd()}\n\n${lines.join('\n')}`
      continue
    }
    const next = result.indexOf('\n## ', start + 1)
    const after = next < 0 ? '' : result.slice(next)
    result = `${result.slice(0, start + 1)}${lines.join('\n')}${after}`
  }
  return result
}

/** A short reading of the figures, with the numbers of this run. */
function interpretation(
  c: Comparison | undefined,
  n: NoChange | undefined,
  tiny: NoChange | undefined
): string[] {
  const lines = ['## What the figures say', '']
  if (c) {
    const wall = (key: Approach['key']) =>
      median(c.approaches.find(a => a.key === key)!.samples.map(s => s.wallSeconds))
    lines.push(
      `- **Full backup.** The action took ${seconds(wall('action'))} where raw git's floor took ${seconds(wall('floor'))} ` +
        `(${(wall('action') / wall('floor')).toFixed(2)}×) and the seed's one-at-a-time approach ${seconds(wall('seed'))}. ` +
        'It does everything the floor does plus its own checks (every LFS object read back and hashed, the ref ' +
        `journal, metadata, state), and ${wall('action') <= wall('floor') ? 'still keeps at or under it' : 'comes close'} by leaving out work that cannot matter: no \`git lfs fetch\` ` +
        'for a repository in which no blob looks like an LFS pointer (git-lfs would scan the whole history to ' +
        'find nothing), one LFS scan per repository instead of two, clone and fetch on git protocol v0 with ' +
        'packs kept as packs (one round trip fewer than v2, and no explosion of a small pack into loose ' +
        'objects), refs read from `packed-refs` instead of a `git for-each-ref` process, no `git config` or ' +
        '`git symbolic-ref` when nothing needs changing, and no `ls-remote` before cloning a repository it has ' +
        "no state for. The floor row with the action's transfer settings shows how much of the difference " +
        'is the protocol.',
      "- **Every process counts.** Node's `spawn` forks the action's whole process from its event loop, " +
        'so each git process costs the action more the larger its heap; with hundreds of repositories a ' +
        'git process left out is time gained even when git itself is quick.'
    )
  }
  if (n) {
    const m = (samples: Traffic[]) => median(samples.map(s => s.wallSeconds))
    const quiet = m(n.unchanged)
    const listing = m(n.listingOnly)
    const adverts = m(n.advertisementsOnly)
    const advertsUncached = m(n.advertisementsUncached)
    const quietUncached = m(n.unchangedUncached)
    const checks = checkConcurrency(concurrency)
    const latencyFloor = (n.repositories / checks) * (latencyMs / 1000)
    const share = (value: number, full: number) => `${((100 * value) / full).toFixed(1)}%`
    const cachedShare = median(n.unchanged.map(s => s.cachedAdvertisements / n.repositories))
    lines.push(
      `- **No change.** The only trustworthy change signal is each repository's ref advertisement ` +
        '(REFERENCE.md: whether a push updates `updated_on` is unconfirmed), so a no-change run still asks ' +
        `for ${n.repositories.toLocaleString('en')} of them. The action reads each itself (one \`GET info/refs\` ` +
        `on protocol v0 over kept-alive connections, ${checks} in flight, the credential only for the clone URL's ` +
        'origin, anything unusual handed to `git ls-remote`), overlapping the listing: ' +
        `${seconds(quiet)}, ${share(quiet, n.full.wallSeconds)} of the full run, against ${seconds(m(n.lsRemoteV0))} for raw \`git ls-remote\` of every repository on v0 ` +
        `and ${seconds(m(n.lsRemote))} on git's default v2 (${concurrency} at a time, a process each). ` +
        `Where the time goes: the action's start, state and ${Math.round(median(n.unchanged.map(s => s.restRequests)))} listing pages ` +
        `take ${seconds(listing)} (the \`dry-run\` row); ${n.repositories.toLocaleString('en')} advertisements fetched by a bare Node client ` +
        `take ${seconds(adverts)}, where ${latencyMs} ms of latency at ${checks} in flight alone is ${seconds(latencyFloor)}.`,
      '- **The local Bitbucket answers like a hosting service.** A hosting service does not start git on the ' +
        "client's own two CPUs for every `info/refs`: Bitbucket Data Center ships a ref advertisement cache (its " +
        'SCM Cache plugin, "Scaling Bitbucket Data Center for Continuous Integration performance"), and what ' +
        'Bitbucket Cloud runs inside is not published, but it serves from many machines. ' +
        `The local Bitbucket now keeps \`git http-backend\`'s answer with a fingerprint of every ` +
        'file git reads for it (HEAD, config, packed-refs, each loose ref: inode, size and nanosecond mtime) and ' +
        'reuses it only while that fingerprint holds (`testkit/bitbucket/ref-cache.ts`; ' +
        "`npm run jest -- local-bitbucket-ref-cache` proves each answer byte-identical to git's after pushes, " +
        `deletions, HEAD changes, \`update-ref\`, \`pack-refs\` and a ref file rewritten in place). In the no-change runs ` +
        `${(100 * cachedShare).toFixed(0)}% of the advertisements came from it. With the cache off, the stand-in starts ` +
        `one \`git http-backend\` (which starts \`git upload-pack\`) per request from its single event loop, forking a ` +
        `process of ${formatMb(n.serverRssBytes)}: the bare client then needs ${seconds(advertsUncached)} ` +
        `(${((1000 * advertsUncached) / n.repositories).toFixed(1)} ms a request) and the action's no-change run ` +
        `${seconds(quietUncached)}, ${share(quietUncached, n.full.wallSeconds)} of the full run: that row measures the stand-in's ` +
        'process starts, not the action. The comparison above runs with the cache off (every approach clones ' +
        'repositories it has never seen).',
      `- **Some changed.** ${n.changed} repositories with a new commit cost the ref checks plus one small ` +
        `pack each: ${formatMb(median(n.someChanged.map(s => s.packAndLfsBytes)))} of packs, against ` +
        `${formatMb(n.full.packAndLfsBytes)} for the full backup.`
    )
  }
  if (tiny) {
    const quiet = median(tiny.unchanged.map(s => s.wallSeconds))
    lines.push(
      `- **Tiny repositories.** With ${tiny.repositories.toLocaleString('en')} repositories of 10 to 50 KB the full ` +
        `run is only ${seconds(tiny.full.wallSeconds)} (a clone costs little more than a check) and the no-change run ` +
        `${seconds(quiet)}, ${((100 * quiet) / tiny.full.wallSeconds).toFixed(1)}%: no per-repository check can come near 5% of ` +
        'a full run that is itself mostly per-repository round trips. It is shown as the worst case, not as the goal.'
    )
  }
  lines.push(
    '- **Caveat.** The local Bitbucket runs on the same CPUs (its `git http-backend` and `upload-pack` ' +
      "processes compete with the client's git), and this machine shares its host: single runs vary " +
      'noticeably (see the ranges), hence alternating runs and medians. Its repositories are repacked with a ' +
      'bitmap index, as hosting servers keep them; without it the server recomputes deltas among ' +
      'incompressible blobs on every clone.',
    ''
  )
  return lines
}

let comparisonFigures: Comparison | undefined
const noChangeFigures: NoChange[] = []
const sections: string[] = []
if (scenarios.has('comparison')) {
  comparisonFigures = await comparison()
  sections.push(...comparisonSection(comparisonFigures))
}
for (const profile of manyProfiles()) {
  if (!scenarios.has(profile.key === 'many' ? 'no-change' : 'no-change-tiny')) continue
  const figures = await noChange(profile)
  noChangeFigures.push(figures)
  sections.push(...noChangeSection(figures))
}
if (comparisonFigures || noChangeFigures.length > 0) {
  sections.push(
    ...interpretation(
      comparisonFigures,
      noChangeFigures.find(figures => figures.profile.key === 'many'),
      noChangeFigures.find(figures => figures.profile.key === 'tiny')
    )
  )
}
/** Scenarios with a section of their own (which says its machine and command): heading → lines. */
const ownSections = new Map<string, string[]>()
if (scenarios.has('large-artifact')) {
  ownSections.set(LARGE_ARTIFACT_HEADING, largeArtifactSection([await largeRepositoryToArtifact()]))
}
if (scenarios.has('memory-objects')) {
  const before = args.get('before')
  ownSections.set(
    MEMORY_OBJECTS_HEADING,
    await memoryObjects({
      blobCounts: (args.get('objects') ?? '10000,100000,1000000').split(',').map(Number),
      pointers: 3,
      bundles: [
        ...(before ? [{ label: 'before', entry: path.resolve(before) }] : []),
        { label: before ? 'after' : 'the action', entry }
      ],
      runs,
      command: reproduceCommand(),
      machine: machineLine()
    })
  )
}
if (scenarios.has('small-disk')) {
  const many = manyProfiles().find(profile => profile.key === 'many')!
  const section = await smallDisk({
    specs: many.specs,
    description: many.description,
    latencyMs,
    entry,
    startBitbucket: () => startBench(true),
    generate: generateApart,
    command: reproduceCommand(),
    machine: machineLine()
  })
  if (section) ownSections.set(SMALL_DISK_HEADING, section)
}
for (const heading of [LARGE_ARTIFACT_HEADING, MEMORY_OBJECTS_HEADING, SMALL_DISK_HEADING]) {
  sections.push(...(ownSections.get(heading) ?? keptSection(heading)))
}

const lines = [
  '# Benchmarks',
  '',
  'Figures from `npm run bench` (not tests): the bundled action run as the GitHub runner runs it',
  '(`node24 dist/index.js`, through `testkit/action-runner.ts`) against the local Bitbucket',
  "(real `git http-backend`, real git-lfs, LFS objects served from a separate storage origin), beside raw git's",
  'floor. Everything runs on one machine: the local Bitbucket, git on both sides and the action share its',
  'CPUs, so a process the action spares is time it gains. Peak memory is the action process itself (git',
  'and git-lfs run in child processes). Requests are counted by the local Bitbucket.',
  '',
  machineLine(),
  '',
  `Reproduce: \`${reproduceCommand()}\``,
  '',
  ...sections
]
fs.mkdirSync(path.dirname(output), { recursive: true })
if (!comparisonFigures && noChangeFigures.length === 0 && fs.existsSync(output)) {
  // Only scenarios with sections of their own ran: the rest of the file stays as it was.
  fs.writeFileSync(output, withSections(fs.readFileSync(output, 'utf8'), ownSections))
} else {
  fs.writeFileSync(output, lines.join('\n'))
}
console.log(`bench: wrote ${output}`)
