// The section of a no-change scenario: its workspace's runs, the baselines beside them, its goals.
import { checkConcurrency } from '../../src/shared/constants.js'
import type { BenchArgs } from './args.js'
import { formatMb, mark, median, seconds } from './format.js'
import type { Traffic } from './measure.js'
import type { NoChange } from './no-change.js'

export function noChangeSection(args: BenchArgs, n: NoChange): string[] {
  const { changedPercent, concurrency, concurrencyInput, latencyMs, runs } = args
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
      `target \`directory\` with the same \`backup-dir\` and runner directory throughout, \`cache: false\`, \`metadata: none\` (git only). ` +
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
