// `--scenario=metadata-cost`: what pull requests and Downloads (the `metadata` input's default) cost in
// REST requests for a workspace of --repositories tiny repositories, each with pull requests: the
// first run, then a daily run (the action's clock a day later) after 20 pull requests were updated,
// beside the goal, and what the default `rest-budget` does to that daily run.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  planRepositories,
  smallRepositoriesClass
} from '../../testkit/bitbucket/generate-workspace.js'
import type { LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { runBenchAction } from './action.js'
import type { BenchArgs } from './args.js'
import { seconds } from './format.js'
import { generateApart, startBench } from './measure.js'

export const METADATA_COST_HEADING = '## REST cost of pull requests and Downloads'

const WORKSPACE = 'meta'
const DAY_MS = 86_400_000
/** Pull requests updated between the first run and the daily run (the figure). */
const UPDATED_PER_DAY = 20
/** Every this many repositories has a Download of 100 KB. */
const DOWNLOAD_EVERY = 20
/** Goal of issue 16: the daily run's REST requests per repository, plus per changed pull request. */
const GOAL_PER_REPOSITORY = 1.1
const GOAL_PER_CHANGED_PR = 5
/** Large enough to measure the whole cost; the default budget's effect is its own run. */
const UNBOUNDED_BUDGET = '100000'
const CLOCK_OFFSET = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clock-offset.mjs')

interface RunCost {
  label: string
  wallSeconds: number
  rest: number
  byKind: Record<string, number>
  /** Repositories whose metadata the budget deferred. */
  deferred: number
}

/** What each REST request was for, from the local Bitbucket's log. */
function kindOf(requestPath: string): string {
  if (/^\/2\.0\/repositories\/[^/]+\/?$/.test(requestPath.split('?')[0])) return 'listing'
  if (/\/pullrequests\/?(\?|$)/.test(requestPath)) return 'pull request probes'
  if (/\/pullrequests\/\d+/.test(requestPath)) return 'pull request details'
  if (/\/downloads/.test(requestPath)) return 'Downloads'
  return 'other'
}

async function measure(
  bb: LocalBitbucket,
  runnerDir: string,
  label: string,
  options: { budget: string; dayOffset: number; entry?: string }
): Promise<RunCost> {
  bb.clearRequests()
  const { wallSeconds, report } = await runBenchAction(bb, {
    workspace: WORKSPACE,
    runnerDir,
    entry: options.entry,
    inputs: { metadata: 'pull-requests, downloads', 'rest-budget': options.budget },
    env: {
      NODE_OPTIONS: `--import=${pathToFileURL(CLOCK_OFFSET).href}`,
      BENCH_CLOCK_OFFSET_MS: String(options.dayOffset * DAY_MS)
    }
  })
  const byKind: Record<string, number> = {}
  for (const request of bb.requests) {
    const kind = request.status < 400 ? kindOf(request.path) : 'refused'
    byKind[kind] = (byKind[kind] ?? 0) + 1
  }
  const deferred = report.repositories.filter(
    repository => (repository.metadata as { deferred?: string } | undefined)?.deferred
  ).length
  return { label, wallSeconds, rest: bb.requests.length, byKind, deferred }
}

/** Two pull requests a repository (one open with two comments, one declined), some Downloads. */
async function addMetadata(bb: LocalBitbucket, slugs: string[]) {
  bb.addUser(WORKSPACE, { nickname: 'alice', displayName: 'Alice' })
  bb.addUser(WORKSPACE, { nickname: 'bob', displayName: 'Bob' })
  for (const [i, slug] of slugs.entries()) {
    const pr = { source: 'feature-1', author: 'alice', reviewers: ['bob'] }
    const open = await bb.addPullRequest(WORKSPACE, slug, { ...pr, title: `Work on ${slug}` })
    bb.commentOnPullRequest(WORKSPACE, slug, open.id, { raw: 'Looks good', author: 'bob' })
    bb.commentOnPullRequest(WORKSPACE, slug, open.id, { raw: 'Thanks', author: 'alice' })
    const old = await bb.addPullRequest(WORKSPACE, slug, { ...pr, title: 'An older attempt' })
    bb.declinePullRequest(WORKSPACE, slug, old.id)
    if (i % DOWNLOAD_EVERY === 0)
      bb.addDownload(WORKSPACE, slug, `release-${i}.zip`, Buffer.alloc(100 * 1024, i % 251))
  }
}

function row(cost: RunCost, kinds: string[]) {
  const cells = kinds.map(kind => String(cost.byKind[kind] ?? 0))
  return `| ${cost.label} | ${seconds(cost.wallSeconds)} | ${cost.rest} | ${cells.join(' | ')} | ${cost.deferred} |`
}

export async function metadataCost(
  args: BenchArgs,
  context: { command: string; machine: string }
): Promise<string[]> {
  const count = args.manyCount
  const specs = planRepositories(smallRepositoriesClass(count), 'metadata')
  const bb = await startBench(args, true)
  const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-metadata-'))
  const budgetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-metadata-budget-'))
  try {
    await generateApart(bb, WORKSPACE, specs, 'metadata')
    const slugs = specs.map(spec => spec.slug)
    await addMetadata(bb, slugs)
    console.log(`bench: metadata-cost: ${count} repositories with pull requests generated`)
    const measured = { budget: UNBOUNDED_BUDGET, entry: args.entry }
    const first = await measure(bb, runnerDir, 'first run', { ...measured, dayOffset: 0 })
    const quiet = await measure(bb, runnerDir, 'the next day, nothing changed', {
      ...measured,
      dayOffset: 1
    })
    // Spread over the workspace: 20 open pull requests gain a comment and a new description.
    const step = Math.max(1, Math.floor(count / UPDATED_PER_DAY))
    const updated = slugs.filter((_, i) => i % step === 0).slice(0, UPDATED_PER_DAY)
    for (const slug of updated) {
      bb.commentOnPullRequest(WORKSPACE, slug, 1, { raw: 'One more thing', author: 'bob' })
      bb.updatePullRequest(WORKSPACE, slug, 1, { description: 'Updated today', by: 'alice' })
    }
    const daily = await measure(
      bb,
      runnerDir,
      `a day later, ${updated.length} pull requests updated`,
      {
        ...measured,
        dayOffset: 2
      }
    )
    fs.cpSync(runnerDir, budgetDir, { recursive: true })
    for (const slug of updated)
      bb.updatePullRequest(WORKSPACE, slug, 1, { description: 'Updated again', by: 'alice' })
    const budgeted = await measure(
      bb,
      budgetDir,
      `the same day after, with the default \`rest-budget\` (900 an hour)`,
      { budget: '900', dayOffset: 3, entry: args.entry }
    )
    const goal = GOAL_PER_REPOSITORY * count + GOAL_PER_CHANGED_PR * updated.length
    const kinds = [
      'listing',
      'pull request probes',
      'pull request details',
      'Downloads',
      'other',
      'refused'
    ]
    return [
      METADATA_COST_HEADING,
      '',
      `${count.toLocaleString('en')} tiny repositories, each with two pull requests (one open with two comments, one declined), ` +
        `and a 100 KB Download on every ${DOWNLOAD_EVERY}th; \`metadata: pull-requests, downloads\` (the default), ` +
        `target \`directory\`, ${args.latencyMs} ms per response. The first three runs have \`rest-budget: ${UNBOUNDED_BUDGET}\` to measure ` +
        `the whole cost; the action's clock is moved a day ahead between runs (scripts/bench/clock-offset.mjs), so the ` +
        `full-pass and Downloads rotations fall due as they would. The last run starts from the daily run's state with ` +
        `the ${updated.length} pull requests updated again and the default budget.`,
      '',
      context.machine,
      '',
      `Reproduce: \`${context.command}\``,
      '',
      `| run | wall time | REST requests | ${kinds.join(' | ')} | repositories with metadata deferred |`,
      `| --- | ---: | ---: | ${kinds.map(() => '---:').join(' | ')} | ---: |`,
      ...[first, quiet, daily, budgeted].map(cost => row(cost, kinds)),
      '',
      `Goal: the daily run spends at most ${GOAL_PER_REPOSITORY} requests a repository plus ${GOAL_PER_CHANGED_PR} per changed pull request ` +
        `(${Math.floor(goal)} here): ${daily.rest}, ${daily.rest <= goal ? 'met' : 'not met'} ` +
        `(${(daily.rest / count).toFixed(3)} a repository). The first run spends ${(first.rest / count).toFixed(1)} a repository: ` +
        `under the default budget of 900 an hour it spreads over about ${Math.ceil(first.rest / 900)} hourly runs, git backed up in the first. ` +
        `At this size a daily run costs more than the default budget: with 900 an hour, the metadata of ` +
        `${budgeted.deferred} repositories waits for the next run (stalest first, git never waits); ` +
        `a second scheduled run a day, an hour or more after the first, covers the rest.`,
      ''
    ]
  } finally {
    await bb.close()
    fs.rmSync(runnerDir, { recursive: true, force: true })
    fs.rmSync(budgetDir, { recursive: true, force: true })
  }
}
