// The one way the benchmarks run the bundled action, as the runner runs it, against a local Bitbucket
// that knows the bench credential: a backup to the directory target unless the inputs say otherwise.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runAction, type ActionRun } from '../../testkit/action-runner.js'
import type { LocalBitbucket } from '../../testkit/bitbucket/index.js'

export const BENCH_EMAIL = 'bench@example.com'
export const BENCH_TOKEN = 'ATATT-bench'

/** A local Bitbucket account the bench's runs authenticate as, with the scopes the README asks for. */
export function addBenchCredential(bb: LocalBitbucket): void {
  bb.addApiToken({
    email: BENCH_EMAIL,
    username: 'bench',
    token: BENCH_TOKEN,
    scopes: ['read:repository:bitbucket', 'read:workspace:bitbucket', 'read:pullrequest:bitbucket']
  })
}

export interface BenchRun {
  run: ActionRun
  wallSeconds: number
  /** The JSON report the action wrote (its `report` output). */
  report: {
    peakRssBytes: number
    /** Backups only: peak disk the run used and the free disk at its start (statfs). */
    peakDiskBytes?: number
    freeDiskBytes?: number
    repositories: Record<string, unknown>[]
  }
}

/** One run of the action, `cache: false`; a failed run throws with its log. */
export async function runBenchAction(
  bb: LocalBitbucket,
  options: {
    workspace: string
    runnerDir: string
    /** Another bundle in place of dist/index.js. */
    entry?: string
    inputs?: Record<string, string>
    env?: Record<string, string>
  }
): Promise<BenchRun> {
  const started = Date.now()
  const run = await runAction(
    {
      workspace: options.workspace,
      'bitbucket-api-url': bb.apiUrl,
      'bitbucket-email': BENCH_EMAIL,
      'bitbucket-api-token': BENCH_TOKEN,
      target: 'directory',
      'backup-dir': 'backup',
      cache: 'false',
      ...options.inputs
    },
    {
      runnerDir: options.runnerDir,
      timeoutMs: 60 * 60_000,
      env: { RUNNER_ENVIRONMENT: 'self-hosted', ...options.env },
      ...(options.entry ? { entry: options.entry } : {})
    }
  )
  const wallSeconds = (Date.now() - started) / 1000
  if (run.exitCode !== 0) {
    // The end of a long run's log seldom says why: the whole of it is kept.
    const log = path.join(os.tmpdir(), `bbb-bench-action-${Date.now()}.log`)
    fs.writeFileSync(log, run.stdout)
    throw new Error(
      `bench: the action failed (whole log: ${log}):\n${run.stdout.slice(-4000)}\n${run.stderr}`
    )
  }
  return { run, wallSeconds, report: JSON.parse(fs.readFileSync(run.outputs.report, 'utf8')) }
}
