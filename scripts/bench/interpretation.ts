// "What the figures say": a short reading of the comparison and no-change figures, with this run's numbers.
import { checkConcurrency } from '../../src/shared/constants.js'
import type { BenchArgs } from './args.js'
import { approachSeconds, type Approach, type Comparison } from './comparison.js'
import { formatMb, median, seconds } from './format.js'
import type { Traffic } from './measure.js'
import type { NoChange } from './no-change.js'

export const INTERPRETATION_HEADING = '## What the figures say'

export function interpretation(
  args: BenchArgs,
  c: Comparison | undefined,
  n: NoChange | undefined,
  tiny: NoChange | undefined
): string[] {
  const { concurrency, latencyMs } = args
  const lines = [INTERPRETATION_HEADING, '']
  if (c) {
    const wall = (key: Approach['key']) => approachSeconds(c, key)
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
