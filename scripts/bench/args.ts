// The command line of `npm run bench` (scripts/bench/index.ts):
//
//   --scenario=comparison,no-change,no-change-tiny   (default) the mixed workspace: action vs raw git
//                                     vs the seed's approach; then 1,000 repositories of the same mix:
//                                     full, no change, 5% changed (with raw ls-remote beside them);
//                                     then 1,000 tiny repositories, the same runs (the worst case)
//   --scenario=large-artifact         one 1 GB repository to the artifact target (peak memory)
//   --scenario=memory-objects         peak memory and time for a repository of few objects and one of
//                                     many (scripts/bench/memory-objects.ts); --objects=10000,100000,1000000
//                                     --before=path/to/index.js (another bundle measured beside it)
//   --scenario=small-disk             the 1,000 repositories of the mixed workspace's sizes to artifacts and
//                                     the cache on a tmpfs a quarter of their size (scripts/bench/small-disk.ts;
//                                     root only); --repositories=N for another count
//   --scenario=restore                the mixed workspace backed up once to a backup directory, then its
//                                     restore (the command line) beside raw git's floor
//                                     (scripts/bench/restore.ts)
//   --scenario=metadata-cost          --repositories tiny repositories with pull requests and Downloads:
//                                     REST requests of the first run and a daily run (scripts/bench/metadata-cost.ts)
//   --latency-ms=40 --runs=3 --small=40 --medium=15 --large=5 --repositories=1000
//   --changed-percent=5 --concurrency=N (default: the action's default) --out=docs/benchmarks.md
//   --size-mb=1024 --target=artifact  (large-artifact)
//   --entry=path/to/index.js          another bundle in place of dist/index.js (before/after figures)
import * as path from 'node:path'
import { DEFAULT_CONCURRENCY } from '../../src/shared/constants.js'

export const SCENARIOS = [
  'comparison',
  'no-change',
  'no-change-tiny',
  'large-artifact',
  'memory-objects',
  'small-disk',
  'restore',
  'metadata-cost'
] as const

export type Scenario = (typeof SCENARIOS)[number]

const DEFAULT_SCENARIOS = 'comparison,no-change,no-change-tiny'

export interface BenchArgs {
  /** The flags as given (for the document's "Reproduce" line). */
  flags: string[]
  scenarios: Set<Scenario>
  latencyMs: number
  runs: number
  /** The mixed workspace's repositories of each size. */
  counts: { small: number; medium: number; large: number }
  /** Repositories of the no-change and small-disk workspaces. */
  manyCount: number
  changedPercent: number
  /** --concurrency as given; absent, the action's default applies. */
  concurrencyInput: string | undefined
  concurrency: number
  /** large-artifact: the repository's size and the target. */
  repositoryMb: number
  target: string
  /** The document written. */
  output: string
  /** Another bundle in place of dist/index.js. */
  entry: string | undefined
  /** memory-objects: another bundle measured beside it, and the blob counts. */
  before: string | undefined
  objects: number[]
}

/** Parses `--name=value` flags (a bare `--name` is `true`); throws on an unknown scenario. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const args = new Map(
    argv.map(arg => {
      const [key, value] = arg.replace(/^--/, '').split('=')
      return [key, value ?? 'true']
    })
  )
  const numberArg = (name: string, fallback: number) => {
    const value = Number(args.get(name) ?? fallback)
    if (!Number.isFinite(value) || value < 0) throw new Error(`bench: --${name} must be a number`)
    return value
  }
  const scenarios = new Set((args.get('scenario') ?? DEFAULT_SCENARIOS).split(','))
  for (const scenario of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(scenario)) {
      throw new Error(`bench: unknown scenario ${scenario} (${SCENARIOS})`)
    }
  }
  const concurrencyInput = args.get('concurrency')
  const entry = args.get('entry')
  return {
    flags: argv,
    scenarios: scenarios as Set<Scenario>,
    latencyMs: numberArg('latency-ms', 40),
    runs: Math.max(1, numberArg('runs', 3)),
    counts: {
      small: numberArg('small', 40),
      medium: numberArg('medium', 15),
      large: numberArg('large', 5)
    },
    manyCount: numberArg('repositories', 1000),
    changedPercent: numberArg('changed-percent', 5),
    concurrencyInput,
    concurrency: Number(concurrencyInput ?? DEFAULT_CONCURRENCY),
    repositoryMb: numberArg('size-mb', 1024),
    target: args.get('target') ?? 'artifact',
    output: path.resolve(args.get('out') ?? 'docs/benchmarks.md'),
    entry: entry ? path.resolve(entry) : undefined,
    before: args.get('before'),
    objects: (args.get('objects') ?? '10000,100000,1000000').split(',').map(Number)
  }
}
