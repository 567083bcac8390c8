// `--scenario=comparison`: the mixed workspace backed up three ways, alternating: the bundled action,
// raw git's floor (also with the action's transfer settings) and the seed's one-at-a-time approach.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  mixedWorkspaceClasses,
  planRepositories
} from '../../testkit/bitbucket/generate-workspace.js'
import type { BenchArgs } from './args.js'
import { formatMb, mark, MB, median, seconds } from './format.js'
import { generateApart, measureAction, measureShell, startBench, type Traffic } from './measure.js'

/** The workspace every approach clones, and the restore scenario restores. */
export const MIXED_WORKSPACE = 'bench'

export const COMPARISON_HEADING = '## A mixed workspace: the action beside raw git'

export interface Approach {
  key: 'action' | 'floor' | 'floor-v0' | 'seed'
  label: string
  samples: Traffic[]
}

export interface Comparison {
  repositories: number
  gitMb: number
  lfsMb: number
  generateSeconds: number
  approaches: Approach[]
}

/** Wall time, median, of one approach. */
export function approachSeconds(c: Comparison, key: Approach['key']): number {
  return median(c.approaches.find(a => a.key === key)!.samples.map(s => s.wallSeconds))
}

export async function comparison(args: BenchArgs): Promise<Comparison> {
  // Every approach clones what it has never seen: git answers every request, as in the first figures.
  const bb = await startBench(args, false)
  try {
    const started = Date.now()
    const generated = await generateApart(
      bb,
      MIXED_WORKSPACE,
      planRepositories(mixedWorkspaceClasses(args.counts)),
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
        label: `the action (${args.entry ? path.relative(process.cwd(), args.entry) : 'dist/index.js'} on Node 24)`,
        samples: []
      },
      { key: 'floor', label: "raw git's floor (`scripts/bench/git.sh floor`)", samples: [] },
      {
        key: 'floor-v0',
        label: "raw git's floor with the action's transfer settings (`TRANSFER=action`)",
        samples: []
      },
      { key: 'seed', label: "the seed's approach (`scripts/bench/git.sh seed`)", samples: [] }
    ]
    for (let run = 0; run < args.runs; run++) {
      // Alternating: each approach goes first, second, third and last in turn.
      const order = approaches.map((_, i) => approaches[(i + run) % approaches.length])
      for (const approach of order) {
        let sample: Traffic
        if (approach.key === 'action') {
          const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-action-'))
          try {
            sample = await measureAction(args, bb, MIXED_WORKSPACE, runnerDir)
          } finally {
            fs.rmSync(runnerDir, { recursive: true, force: true })
          }
        } else if (approach.key === 'floor-v0') {
          sample = await measureShell(args, bb, MIXED_WORKSPACE, 'floor', true)
        } else {
          sample = await measureShell(args, bb, MIXED_WORKSPACE, approach.key)
        }
        approach.samples.push(sample)
        console.log(
          `bench: run ${run + 1}/${args.runs} ${approach.key}: ${seconds(sample.wallSeconds)}, ` +
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

export function comparisonSection(args: BenchArgs, c: Comparison): string[] {
  const { counts } = args
  const floor = approachSeconds(c, 'floor')
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
    COMPARISON_HEADING,
    '',
    `${c.repositories} repositories (${counts.small} small of 0.1 to 0.4 MB, ${counts.medium} medium of 1.5 to 2.5 MB, ` +
      `${counts.large} large of 8 to 12 MB git with 16 to 24 MB of LFS in 6 objects, one only on a branch), ` +
      `${c.gitMb.toFixed(0)} MB of git and ${c.lfsMb.toFixed(0)} MB of LFS, incompressible, several commits, ` +
      `branches and tags each (\`testkit/bitbucket/generate-workspace.ts\`, generated in ${seconds(c.generateSeconds)}). ` +
      `The local Bitbucket waits ${args.latencyMs} ms before every response (REST, git and LFS storage). ` +
      `Concurrency ${args.concurrency} for the action and for raw git's floor. ` +
      `Medians of ${args.runs} runs each, the approaches alternating (each goes first in turn), dirty pages ` +
      'written back (`sync`) before every run.',
    '',
    '- **the action**: `runAction` as the runner runs it, target `directory`, a fresh `backup-dir` `cache: false` and `metadata: none` each run (a full backup of git, as the floor makes; what metadata costs has its own section).',
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
