// `--scenario=restore`: the comparison's mixed workspace backed up once by the bundled action to a
// backup directory, then restored from it into fresh local bare repositories, alternating: the
// action's restore command line (as a user runs it) and raw git's floor (scripts/bench/restore-floor.sh).
// Every restored repository is compared with the local Bitbucket's after every run.
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { distEntry, node24Binary } from '../../testkit/action-runner.js'
import {
  mixedWorkspaceClasses,
  planRepositories
} from '../../testkit/bitbucket/generate-workspace.js'
import { runBenchAction } from './action.js'
import type { BenchArgs } from './args.js'
import { MIXED_WORKSPACE } from './comparison.js'
import { mark, MB, median, seconds } from './format.js'
import { generateApart, startBench } from './measure.js'
import { checkRestored, expectedRepositories, type RestoredTotals } from './restore-check.js'

export const RESTORE_HEADING = '## Restoring the mixed workspace from a backup directory'

const RESTORE_FLOOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'restore-floor.sh')
/** Repositories raw git's floor restores at a time. */
const FLOOR_CONCURRENCY = 8
/** The goal: the action's restore at most this multiple of raw git's floor. */
const GOAL = 1.1

export interface RestoreScenarioOptions {
  /** The command that ran the scenario, and the machine it ran on, for the section. */
  command: string
  machine: string
}

interface Sample {
  wallSeconds: number
  /** User + system time of the command and every process it waited for. */
  cpuSeconds: number
  /** The machine's 1-minute load average as the run started. */
  loadAverage: number
}

interface Approach {
  key: 'restore' | 'floor' | 'floor-keep-pack'
  label: string
  samples: Sample[]
}

interface Figures {
  repositories: number
  gitBytes: number
  lfsBytes: number
  backupSeconds: number
  approaches: Approach[]
  /** What every run was compared against, and how many runs were. */
  compared: RestoredTotals
  checkedRuns: number
}

/** Bash runs the command, then tells the CPU time of the processes it waited for (`times`). */
const TIMED = '"$@"; status=$?; times >"$BENCH_TIMES"; exit $status'

/** Runs `command` to its end: its exit code, output, wall and CPU seconds. */
async function runTimed(command: string[], env: NodeJS.ProcessEnv = {}) {
  const timesFile = path.join(os.tmpdir(), `bbb-bench-times-${process.pid}-${Date.now()}`)
  const started = Date.now()
  const result = await new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn('bash', ['-c', TIMED, 'bash', ...command], {
      env: { ...process.env, ...env, BENCH_TIMES: timesFile },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', chunk => (output += chunk))
    child.stderr.on('data', chunk => (output += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({ code: code ?? -1, output }))
  })
  const wallSeconds = (Date.now() - started) / 1000
  // Two lines, the shell's own user and system time, then its children's: `0m1.234s 0m0.567s`.
  const children = fs.readFileSync(timesFile, 'utf8').trim().split('\n')[1] ?? ''
  fs.rmSync(timesFile, { force: true })
  const cpuSeconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, [, minutes, secs]) => sum + 60 * Number(minutes) + Number(secs),
    0
  )
  return { ...result, wallSeconds, cpuSeconds }
}

/** The run's output kept in a file, and its end in the error. */
function failed(what: string, result: { code: number; output: string }): Error {
  const log = path.join(os.tmpdir(), `bbb-bench-restore-${Date.now()}.log`)
  fs.writeFileSync(log, result.output)
  return new Error(
    `bench: ${what} failed, exit code ${result.code} (whole log: ${log}):\n${result.output.slice(-4000)}`
  )
}

/** Generates the mixed workspace and backs it up once to `backupDir`; what a restore must bring back. */
async function backUpOnce(args: BenchArgs, backupDir: string, runnerDir: string) {
  const specs = planRepositories(mixedWorkspaceClasses(args.counts))
  // The local Bitbucket serves the backup only: it is closed before any restore runs.
  const bb = await startBench(args, false)
  try {
    const generated = await generateApart(bb, MIXED_WORKSPACE, specs, 'bench')
    const { run, wallSeconds } = await runBenchAction(bb, {
      workspace: MIXED_WORKSPACE,
      runnerDir,
      entry: args.entry,
      inputs: {
        'backup-dir': backupDir,
        ...(args.concurrencyInput ? { concurrency: args.concurrencyInput } : {})
      }
    })
    if (run.outputs['backed-up'] !== String(specs.length)) {
      throw new Error(`bench: expected ${specs.length} backed up, got ${run.outputs['backed-up']}`)
    }
    console.log(
      `bench: ${specs.length} repositories backed up to ${backupDir} in ${seconds(wallSeconds)}`
    )
    const slugs = specs.map(spec => spec.slug)
    return { generated, wallSeconds, expected: expectedRepositories(bb, MIXED_WORKSPACE, slugs) }
  } finally {
    await bb.close()
  }
}

/**
 * One restore of the backup by `approach` into `dest`, timed: the command line
 * (`node24 <entry> restore --from <backup> --to <template>`) or raw git's floor.
 */
async function timeRestore(
  args: BenchArgs,
  approach: Approach['key'],
  backupDir: string,
  dest: string,
  repositories: number
): Promise<Sample> {
  execFileSync('sync')
  const loadAverage = os.loadavg()[0]
  if (approach === 'restore') {
    const to = path.join(dest, '{workspace}', '{slug}.git')
    const entry = args.entry ?? distEntry
    const result = await runTimed([
      node24Binary(),
      entry,
      'restore',
      '--from',
      backupDir,
      '--to',
      to
    ])
    if (result.code !== 0 || !result.output.includes(`${repositories} restored, 0 failed`)) {
      throw failed('the restore', result)
    }
    return { wallSeconds: result.wallSeconds, cpuSeconds: result.cpuSeconds, loadAverage }
  }
  const result = await runTimed(['bash', RESTORE_FLOOR], {
    FROM_DIR: path.join(backupDir, MIXED_WORKSPACE),
    OUT_DIR: path.join(dest, MIXED_WORKSPACE),
    CONCURRENCY: String(FLOOR_CONCURRENCY),
    KEEP_PACK: approach === 'floor-keep-pack' ? '1' : ''
  })
  if (result.code !== 0) throw failed("raw git's floor", result)
  return { wallSeconds: result.wallSeconds, cpuSeconds: result.cpuSeconds, loadAverage }
}

export async function restoreScenario(
  args: BenchArgs,
  options: RestoreScenarioOptions
): Promise<string[]> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-restore-'))
  try {
    const backupDir = path.join(base, 'backup')
    const backup = await backUpOnce(args, backupDir, path.join(base, 'runner'))
    const repositories = backup.expected.length
    const approaches: Approach[] = [
      {
        key: 'restore',
        label: `the action's restore (\`${args.entry ? path.relative(process.cwd(), args.entry) : 'dist/index.js'} restore\` on Node 24)`,
        samples: []
      },
      { key: 'floor', label: "raw git's floor (`scripts/bench/restore-floor.sh`)", samples: [] },
      {
        key: 'floor-keep-pack',
        label: "raw git's floor keeping each pack whole, as the action does (`KEEP_PACK=1`)",
        samples: []
      }
    ]
    let compared: RestoredTotals | undefined
    for (let run = 0; run < args.runs; run++) {
      // Alternating: each goes first in turn.
      for (const approach of approaches.map((_, i) => approaches[(i + run) % approaches.length])) {
        const dest = fs.mkdtempSync(path.join(base, `${approach.key}-`))
        try {
          const sample = await timeRestore(args, approach.key, backupDir, dest, repositories)
          approach.samples.push(sample)
          // The floor sets no HEAD (`git push --mirror` leaves it as `git init` made it).
          const checkHead = approach.key === 'restore'
          compared = checkRestored(
            approach.key,
            path.join(dest, MIXED_WORKSPACE),
            backup.expected,
            checkHead
          )
          console.log(
            `bench: run ${run + 1}/${args.runs} ${approach.key}: ${seconds(sample.wallSeconds)} ` +
              `(${seconds(sample.cpuSeconds)} CPU, load ${sample.loadAverage.toFixed(1)}), ` +
              `${compared.repositories} repositories, ${compared.refs} refs and ${compared.lfsObjects} LFS objects as upstream`
          )
        } finally {
          fs.rmSync(dest, { recursive: true, force: true })
        }
      }
    }
    return restoreSection(args, options, {
      repositories,
      gitBytes: backup.generated.gitBytes,
      lfsBytes: backup.generated.lfsBytes,
      backupSeconds: backup.wallSeconds,
      approaches,
      compared: compared!,
      checkedRuns: args.runs * approaches.length
    })
  } finally {
    fs.rmSync(base, { recursive: true, force: true })
  }
}

function restoreSection(args: BenchArgs, options: RestoreScenarioOptions, f: Figures): string[] {
  const of = (key: Approach['key'], pick: (sample: Sample) => number) =>
    f.approaches.find(a => a.key === key)!.samples.map(pick)
  const floor = median(of('floor', s => s.wallSeconds))
  const ratio = median(of('restore', s => s.wallSeconds)) / floor
  const keptRatio =
    median(of('restore', s => s.wallSeconds)) / median(of('floor-keep-pack', s => s.wallSeconds))
  const range = (values: number[]) =>
    `${seconds(median(values))} (${seconds(Math.min(...values))} to ${seconds(Math.max(...values))})`
  const rows = f.approaches.map(({ key, label }) => {
    const wall = of(key, s => s.wallSeconds)
    const cpu = of(key, s => s.cpuSeconds)
    return `| ${label} | ${range(wall)} | ${(median(wall) / floor).toFixed(2)}× | ${range(cpu)} |`
  })
  const loads = f.approaches.flatMap(a => a.samples.map(s => s.loadAverage))
  return [
    RESTORE_HEADING,
    '',
    `The comparison scenario's mixed workspace (${f.repositories} repositories, ${(f.gitBytes / MB).toFixed(0)} MB of git ` +
      `and ${(f.lfsBytes / MB).toFixed(0)} MB of LFS, generated alike by \`testkit/bitbucket/generate-workspace.ts\`), ` +
      `backed up once by the bundled action to a \`backup-dir\` (target \`directory\`, \`cache: false\`, ` +
      `${seconds(f.backupSeconds)}), then restored from that directory into local bare repositories, a fresh ` +
      `empty directory each run. Medians of ${args.runs} runs each, the three alternating (each goes first in ` +
      'turn), dirty pages written back (`sync`) before every run. After every run each restored repository ' +
      "was compared with the local Bitbucket's: its refs (`git for-each-ref`), every object they reach, in " +
      'the repository itself (`git fsck --connectivity-only`, no `objects/info/alternates`), its LFS objects ' +
      "(the same set, each file's SHA-256 its name) and, for the action's restore, HEAD. All " +
      `${f.checkedRuns} runs were equal to it: ${f.compared.repositories} repositories, ` +
      `${f.compared.refs.toLocaleString('en')} refs, ${f.compared.lfsObjects} LFS objects. CPU time is the user and ` +
      "system time of the command and every process it waited for (git, git-lfs, cp; bash's `times`): the work " +
      "done, whatever else the machine ran. The machine's 1-minute load average as the runs started: " +
      `${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)} on ${os.cpus().length} CPUs. ${options.machine} ` +
      `Reproduce: \`${options.command}\`; a run without that scenario keeps this section as it was.`,
    '',
    "- **the action's restore**: `node24 dist/index.js restore --from <backup-dir> --to '<dir>/{workspace}/{slug}.git'`, " +
      'the command line as a user runs it, with its default concurrency (no flag given).',
    `- **raw git's floor**: for each mirror \`git init --bare\`, \`git push --mirror\` into it and a copy of its ` +
      `\`lfs/objects\`, ${FLOOR_CONCURRENCY} repositories at a time (\`xargs -P\`), nothing checked.`,
    "- **keeping each pack whole**: the same with `--receive-pack='git -c receive.unpackLimit=1 receive-pack'`, " +
      'as the action pushes into a local path: git otherwise explodes a push of fewer than 100 objects into ' +
      'loose objects, compressing each again, where a server (and the action) keeps the pack as it came.',
    '',
    '| approach | wall time, median (range) | × raw git | CPU time (user + system), median (range) |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `Goal: restore at most ${GOAL}× raw git's floor: ${ratio.toFixed(2)}×, ${mark(ratio <= GOAL)}. ` +
      `Beside raw git keeping packs the same way it is ${keptRatio.toFixed(2)}×: what it does beyond ` +
      'the floor (the staging of refs, the SHA-256 of every LFS object copied, HEAD, reading every ref back).',
    ''
  ]
}
