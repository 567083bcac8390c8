// What every scenario against the local Bitbucket measures with: the bundled action, raw git's
// baselines (scripts/bench/git.sh) and the requests each made, on a workspace generated apart.
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  registerWorkspace,
  workspaceTotals,
  type RepositorySpec
} from '../../testkit/bitbucket/generate-workspace.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { addBenchCredential, BENCH_EMAIL, BENCH_TOKEN, runBenchAction } from './action.js'
import type { BenchArgs } from './args.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const BENCH_GIT = path.join(here, 'git.sh')
const BENCH_GENERATE = path.join(here, 'generate.ts')

const REST_AUTHORIZATION = `Basic ${Buffer.from(`${BENCH_EMAIL}:${BENCH_TOKEN}`).toString('base64')}`
export const GIT_AUTHORIZATION = `Basic ${Buffer.from(`x-bitbucket-api-token-auth:${BENCH_TOKEN}`).toString('base64')}`

/** What one run cost, read from the local Bitbucket's request logs. */
export interface Traffic {
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

export function trafficOf(bb: LocalBitbucket, wallSeconds: number): Traffic {
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
export function clearLogs(bb: LocalBitbucket) {
  execFileSync('sync')
  bb.clearRequests()
  bb.clearGitRequests()
}

/** The bundled action on Node 24, directory target, no cache: a full backup unless state is kept. */
export async function measureAction(
  args: BenchArgs,
  bb: LocalBitbucket,
  workspace: string,
  runnerDir: string,
  extraInputs: Record<string, string> = {}
) {
  clearLogs(bb)
  const { run, wallSeconds, report } = await runBenchAction(bb, {
    workspace,
    runnerDir,
    entry: args.entry,
    inputs: {
      ...(args.concurrencyInput ? { concurrency: args.concurrencyInput } : {}),
      // Git only, as raw git's floor: what metadata costs is the metadata-cost scenario's section.
      metadata: 'none',
      ...extraInputs
    }
  })
  return { ...trafficOf(bb, wallSeconds), peakRssBytes: report.peakRssBytes, run }
}

/** Runs a script of the bench with `env` added; rejects with its stderr when it fails. */
export async function runScript(script: string, scriptArgs: string[], env: NodeJS.ProcessEnv) {
  const result = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    // Not execFileSync: the local Bitbucket answers from this process's event loop.
    const child = spawn('bash', [script, ...scriptArgs], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, stderr }))
  })
  if (result.code !== 0) {
    throw new Error(`bench: ${path.basename(script)} ${scriptArgs} failed:\n${result.stderr}`)
  }
}

export type ShellMode = 'floor' | 'seed' | 'ls-remote'

/** scripts/bench/git.sh in one of its modes, into a fresh directory; `tuned`: the action's settings. */
export async function measureShell(
  args: BenchArgs,
  bb: LocalBitbucket,
  workspace: string,
  mode: ShellMode,
  tuned = false
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bbb-bench-${mode}-`))
  const headerFile = path.join(dir, 'rest-header')
  fs.writeFileSync(headerFile, `Authorization: ${REST_AUTHORIZATION}\n`)
  clearLogs(bb)
  const started = Date.now()
  try {
    await runScript(BENCH_GIT, [mode], {
      API_URL: bb.apiUrl,
      WORKSPACE: workspace,
      REST_HEADER_FILE: headerFile,
      GIT_ORIGIN: bb.origin,
      GIT_AUTHORIZATION,
      OUT_DIR: path.join(dir, 'out'),
      CONCURRENCY: String(args.concurrency),
      ...(tuned ? { TRANSFER: 'action' } : {})
    })
    return trafficOf(bb, (Date.now() - started) / 1000)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Creates the workspace in the local Bitbucket and fills it from another process
 * (scripts/bench/generate.ts), so the generator's memory stays out of the serving process.
 */
export async function generateApart(
  bb: LocalBitbucket,
  workspace: string,
  repositories: RepositorySpec[],
  seed: string
) {
  const jobs = registerWorkspace(bb, workspace, repositories)
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', BENCH_GENERATE], {
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

/** The local Bitbucket with the bench's latency and credential. */
export async function startBench(
  args: BenchArgs,
  refAdvertisementCache: boolean
): Promise<LocalBitbucket> {
  const bb = await startLocalBitbucket({ latencyMs: args.latencyMs, refAdvertisementCache })
  addBenchCredential(bb)
  return bb
}
