// `--scenario=no-change` and `no-change-tiny`: 1,000 repositories with state kept between runs: one
// full run, then rounds of a run with no change upstream (beside its baselines) and one after a few
// repositories gained a commit.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { addCommits } from '../../testkit/bitbucket/generate-workspace.js'
import type { LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { checkConcurrency } from '../../src/shared/constants.js'
import { createRefAdvertisementClient } from '../../src/git/ref-advertisement.js'
import type { BenchArgs } from './args.js'
import { formatMb, seconds } from './format.js'
import {
  clearLogs,
  generateApart,
  GIT_AUTHORIZATION,
  measureAction,
  measureShell,
  startBench,
  trafficOf,
  type Traffic
} from './measure.js'
import type { ManyProfile } from './profiles.js'

const WORKSPACE = 'many'

export interface NoChange {
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
async function measureAdvertisements(
  args: BenchArgs,
  bb: LocalBitbucket,
  workspace: string,
  slugs: string[]
) {
  const client = createRefAdvertisementClient({
    authorization: async () => GIT_AUTHORIZATION,
    maxSockets: checkConcurrency(args.concurrency)
  })
  clearLogs(bb)
  const started = Date.now()
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: checkConcurrency(args.concurrency) }, async () => {
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

const last = (samples: Traffic[]) => seconds(samples[samples.length - 1].wallSeconds)

export async function noChange(args: BenchArgs, profile: ManyProfile): Promise<NoChange> {
  const { manyCount, runs } = args
  const bb = await startBench(args, true)
  const runnerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-bench-state-'))
  try {
    const repositories = profile.specs
    const started = Date.now()
    await generateApart(bb, WORKSPACE, repositories, profile.key)
    console.log(
      `bench: ${repositories.length} repositories (${profile.key}) ready in ${seconds((Date.now() - started) / 1000)}`
    )
    const full = await measureAction(args, bb, WORKSPACE, runnerDir)
    const serverRssBytes = process.memoryUsage().rss
    console.log(
      `bench: full run ${seconds(full.wallSeconds)}, ${full.restRequests} REST, ${full.gitRequests} git requests`
    )
    const figures: NoChange = {
      profile,
      repositories: manyCount,
      changed: Math.max(1, Math.round((manyCount * args.changedPercent) / 100)),
      full,
      unchanged: [],
      someChanged: [],
      lsRemote: [],
      lsRemoteV0: [],
      listingOnly: [],
      advertisementsOnly: [],
      advertisementsUncached: [],
      unchangedUncached: [],
      serverRssBytes
    }
    /** Runs `measure` with the stand-in starting git for every ref advertisement. */
    const uncached = async <T>(measure: () => Promise<T>): Promise<T> => {
      bb.refAdvertisementCache = false
      try {
        return await measure()
      } finally {
        bb.refAdvertisementCache = true
      }
    }
    const { changed } = figures
    for (let run = 0; run < runs; run++) {
      const quietRun = async (label: string, samples: Traffic[]) => {
        const quiet = await measureAction(args, bb, WORKSPACE, runnerDir)
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
      const steps: (() => Promise<void>)[] = [() => quietRun('no-change run', figures.unchanged)]
      if (profile.baselines) {
        const slugs = repositories.map(spec => spec.slug)
        steps.push(() =>
          uncached(() => quietRun('no-change run, no cache', figures.unchangedUncached))
        )
        steps.push(async () => {
          figures.advertisementsOnly.push(await measureAdvertisements(args, bb, WORKSPACE, slugs))
          console.log(`bench: ref advertisements only ${last(figures.advertisementsOnly)}`)
        })
        steps.push(async () => {
          const sample = await uncached(() => measureAdvertisements(args, bb, WORKSPACE, slugs))
          figures.advertisementsUncached.push(sample)
          console.log(`bench: ref advertisements only, no cache ${seconds(sample.wallSeconds)}`)
        })
        steps.push(async () => {
          figures.listingOnly.push(
            await measureAction(args, bb, WORKSPACE, runnerDir, { 'dry-run': 'true' })
          )
          console.log(`bench: listing only ${last(figures.listingOnly)}`)
        })
        steps.push(async () => {
          figures.lsRemote.push(await measureShell(args, bb, WORKSPACE, 'ls-remote'))
          console.log(`bench: raw ls-remote ${last(figures.lsRemote)}`)
        })
        steps.push(async () => {
          figures.lsRemoteV0.push(await measureShell(args, bb, WORKSPACE, 'ls-remote', true))
          console.log(`bench: raw ls-remote v0 ${last(figures.lsRemoteV0)}`)
        })
      }
      // Alternating, as in the comparison.
      for (let i = 0; i < steps.length; i++) await steps[(i + run) % steps.length]()
      // A different slice each time: repositories spread over the listing.
      const step = Math.floor(manyCount / changed)
      const slugs = Array.from(
        { length: changed },
        (_, i) => repositories[(i * step + run) % manyCount].slug
      )
      await addCommits(bb, WORKSPACE, slugs, { label: `change-${run + 1}` })
      const some = await measureAction(args, bb, WORKSPACE, runnerDir)
      if (some.run.outputs['backed-up'] !== String(changed)) {
        throw new Error(
          `bench: expected ${changed} backed up, got ${some.run.outputs['backed-up']}`
        )
      }
      figures.someChanged.push(some)
      console.log(
        `bench: ${changed} changed, run ${run + 1}/${runs}: ${seconds(some.wallSeconds)}, ` +
          `${formatMb(some.packAndLfsBytes)} pack+LFS bytes, ${some.packFetches} pack fetches`
      )
    }
    return figures
  } finally {
    await bb.close()
    fs.rmSync(runnerDir, { recursive: true, force: true })
  }
}
