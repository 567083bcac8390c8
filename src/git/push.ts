// Pushes a bare mirror to any git server (the GitHub target, a restore into Bitbucket, a URL or a path) as
// a true mirror, within the server's limits: packs over the size limit are split into steps of older
// commits first, and batches respect a ref-count policy. Logs and errors name the destination given.
import type { Git } from './git.js'
import { GitError } from './git.js'
import { withGitRetry, type GitRetryOptions } from './transient.js'
import { formatBytes } from '../shared/format.js'
import {
  chunk,
  classifyPushRefusal,
  isPushableRef,
  parseRefLines,
  planRefUpdates,
  type RefUpdate
} from './refs.js'
import { CodedError, coded } from '../shared/codes.js'

/** Keeps a command line well under the kernel's limits whatever the ref count. */
const MAX_REFSPECS_PER_PUSH = 1000
/** The pack estimate (on-disk size) is close to what git sends; leave room for the difference. */
const SIZE_MARGIN = 0.8
const SMALLEST_BUDGET = 1024

/** A refusal splitting cannot fix: files over the size limit (GH001), a pack (GH002), a policy (GH013). */
export class PushRefusedError extends CodedError {
  override name = 'PushRefusedError'
}

/** How logs and errors name the server a push goes to: the same code pushes to every kind. */
export interface PushDestination {
  /** As a sentence names it: GitHub, Bitbucket, a host. */
  name: string
  /** The input that raises the pack size limit, when the user has one (github-push-size-limit). */
  sizeLimitInput?: string
}

export interface MirrorPushPlan {
  /** Refs that differ from the mirror on the destination (sets, then deletions). */
  updates: RefUpdate[]
  /** Object names the destination already has that exist here too: never sent again. */
  known: Set<string>
  /** Refs the destination had before this push (pull request refs aside). */
  remoteRefs: number
}

export interface PushOptions {
  git: Git
  mirror: string
  url: string
  destination: PushDestination
  maxPushBytes: number
  /** Most refs per push (a push policy); 0 when unlimited. */
  refsPerPush: number
  log(line: string): void
  retry?: GitRetryOptions
  /** Runs after every set and before any deletion (the default branch must move first). */
  beforeDeletes?: () => Promise<void>
  /** A local repository only: keep each pushed pack whole, as a server does (see KEEP_PACK). */
  keepPack?: boolean
}

/**
 * Pushed into a local path, git explodes a pack of fewer than 100 objects into loose objects, each
 * compressed again; a receive-pack told to keep every pack stores it as sent, several times faster.
 * Only this option reaches it: git clears configuration from the environment for another repository.
 */
const KEEP_PACK = '--receive-pack=git -c receive.unpackLimit=1 receive-pack'

export interface PushSummary {
  pushes: number
  refsSet: number
  refsDeleted: number
  /** Sum of the pack size estimates of every push that went through. */
  estimatedBytes: number
}

export async function planMirrorPush(
  git: Git,
  mirror: string,
  url: string,
  retry?: GitRetryOptions,
  /** Refs pushed although outside what a mirror pushes (the metadata archive). */
  alsoPush: readonly string[] = [],
  /** What the caller knows already: the mirror's refs, or that the destination is new and empty. */
  given: { localRefs?: Map<string, string>; remoteEmpty?: boolean } = {}
) {
  const local =
    given.localRefs ??
    parseRefLines(
      await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: mirror })
    )
  const remote = given.remoteEmpty
    ? new Map<string, string>()
    : parseRefLines(
        await withGitRetry(
          `ls-remote of ${url}`,
          () => git.run(['ls-remote', url], { cwd: mirror }),
          retry
        )
      )
  const remoteOids = [...new Set(remote.values())]
  const known = new Set<string>()
  if (remoteOids.length > 0) {
    await git.lines(
      ['cat-file', '--batch-check=%(objectname) %(objecttype)'],
      line => {
        const [oid, type] = line.split(' ')
        if (type !== 'missing') known.add(oid)
      },
      { cwd: mirror, input: `${remoteOids.join('\n')}\n` }
    )
  }
  const remoteRefs = [...remote.keys()].filter(isPushableRef).length
  return {
    updates: planRefUpdates(local, remote, alsoPush),
    known,
    remoteRefs
  } satisfies MirrorPushPlan
}

/** The policy's own number when the server says it, else half of what was just refused. */
function lowerRefLimit(stated: number | undefined, refused: number): number {
  const limit = stated && stated < refused ? stated : Math.floor(refused / 2)
  if (limit < 1)
    throw new PushRefusedError('GH013', 'a push policy refused even a push of a single ref')
  return limit
}

export async function pushMirror(plan: MirrorPushPlan, options: PushOptions): Promise<PushSummary> {
  const { git, mirror, url, log } = options
  const { name } = options.destination
  const raiseLimit = options.destination.sizeLimitInput
    ? ` (${options.destination.sizeLimitInput})`
    : ''
  const known = plan.known
  const summary: PushSummary = { pushes: 0, refsSet: 0, refsDeleted: 0, estimatedBytes: 0 }
  let refLimit = Math.min(options.refsPerPush || MAX_REFSPECS_PER_PUSH, MAX_REFSPECS_PER_PUSH)
  let budget = Math.floor(options.maxPushBytes * SIZE_MARGIN)

  const revisions = (tips: string[]) =>
    `${[...tips, ...[...known].map(oid => `^${oid}`)].join('\n')}\n`

  /** Bytes on disk of every object the tips need that the destination lacks: the pack estimate. */
  const packEstimate = async (tips: string[]) =>
    // Without a size limit (a local path) nothing is split: the walk would be work for nothing.
    !Number.isFinite(budget)
      ? 0
      : Number(
          (
            await git.run(['rev-list', '--objects', '--disk-usage', '--stdin'], {
              cwd: mirror,
              input: revisions(tips)
            })
          ).trim()
        )

  /** One `git push`; a refusal that splitting can fix comes back, anything else throws. */
  const send = async (refspecs: string[], estimate: number) => {
    const result = await withGitRetry(
      `push to ${name}`,
      async () => {
        const keep = options.keepPack ? [KEEP_PACK] : []
        const attempt = await git.exec(
          ['push', '--porcelain', '--no-verify', ...keep, url, ...refspecs],
          { cwd: mirror }
        )
        if (attempt.exitCode === 0) return attempt
        const refusal = classifyPushRefusal(attempt.stderr)
        if (refusal) return { ...attempt, refusal }
        const reason =
          attempt.stderr
            .split('\n')
            .map(line => line.trim())
            .filter(line => /^(fatal|error|!|remote: error)/.test(line))
            .join('; ') || `exit code ${attempt.exitCode}`
        throw new GitError(coded('GIT010', `git push failed: ${reason}`), attempt.stderr)
      },
      options.retry
    )
    if ('refusal' in result && result.refusal) {
      if (result.refusal.kind === 'large-files') {
        throw new PushRefusedError(
          'GH001',
          `${name} refused files over its size limit: ${result.refusal.files.join(', ')}`
        )
      }
      return result.refusal
    }
    summary.pushes++
    summary.estimatedBytes += estimate
    log(
      `pushed ${refspecs.length} ref(s)${Number.isFinite(budget) ? `, about ${formatBytes(estimate)}` : ''}`
    )
    return undefined
  }

  const shrinkBudget = (estimate: number) => {
    budget = Math.min(budget, Math.floor(estimate / 2))
    log(
      `${name} refused a pack of about ${formatBytes(estimate)}: pushing in steps of ${formatBytes(budget)}`
    )
    if (budget < SMALLEST_BUDGET)
      throw new PushRefusedError('GH002', `${name} refused even the smallest pack`)
  }

  /** Pushes one ref's history oldest first, each step the longest first-parent run that fits. */
  const pushInSteps = async (update: RefUpdate & { oid: string }) => {
    const commits: string[] = []
    await git.lines(
      ['rev-list', '--first-parent', '--reverse', '--stdin'],
      line => commits.push(line),
      {
        cwd: mirror,
        input: revisions([`${update.oid}^{commit}`])
      }
    )
    let start = 0
    while (start < commits.length - 1) {
      let low = start
      let high = commits.length - 1
      let fits = -1
      while (low <= high) {
        const middle = Math.floor((low + high) / 2)
        if ((await packEstimate([commits[middle]])) <= budget) {
          fits = middle
          low = middle + 1
        } else high = middle - 1
      }
      if (fits === commits.length - 1) break
      if (fits < 0) {
        const alone = await packEstimate([commits[start]])
        throw new PushRefusedError(
          'GH002',
          `commit ${commits[start].slice(0, 12)} of ${update.ref} alone needs about ${formatBytes(alone)}, more than one push may carry${raiseLimit}`
        )
      }
      const estimate = await packEstimate([commits[fits]])
      const refusal = await send([`+${commits[fits]}:${update.ref}`], estimate)
      if (refusal?.kind === 'too-large') {
        shrinkBudget(estimate)
        continue
      }
      if (refusal) throw new PushRefusedError('GH013', `${name} refused a step of ${update.ref}`)
      known.add(commits[fits])
      start = fits + 1
    }
  }

  /** `stepped`: the ref's older history is there already, so what is left is sent as it is. */
  const pushSets = async (
    batch: (RefUpdate & { oid: string })[],
    stepped = false
  ): Promise<void> => {
    if (batch.length === 0) return
    if (batch.length > refLimit) {
      for (const part of chunk(batch, refLimit)) await pushSets(part)
      return
    }
    const estimate = await packEstimate(batch.map(update => update.oid))
    if (estimate > budget && !stepped) {
      if (batch.length === 1) {
        await pushInSteps(batch[0])
        return pushSets(batch, true)
      }
      const middle = Math.ceil(batch.length / 2)
      await pushSets(batch.slice(0, middle))
      await pushSets(batch.slice(middle))
      return
    }
    const refusal = await send(
      batch.map(update => `+${update.oid}:${update.ref}`),
      estimate
    )
    if (!refusal) {
      for (const update of batch) known.add(update.oid)
      summary.refsSet += batch.length
      return
    }
    if (refusal.kind === 'ref-limit') {
      refLimit = lowerRefLimit(refusal.limit, batch.length)
      log(
        `a push policy allows ${refLimit} ref update(s) per push: pushing in batches of that size`
      )
      return pushSets(batch, stepped)
    }
    if (stepped) {
      throw new PushRefusedError(
        'GH002',
        `the last step of ${batch[0].ref} needs about ${formatBytes(estimate)}, more than one push may carry${raiseLimit}`
      )
    }
    shrinkBudget(estimate)
    return pushSets(batch)
  }

  /**
   * Everything in one push by pattern when no limit is in the way: git matches thousands of
   * explicit refspecs against thousands of refs in quadratic time, a pattern in linear time.
   */
  const pushAllAtOnce = async (all: (RefUpdate & { oid: string })[]) => {
    const patterned = all.filter(update => isPushableRef(update.ref))
    if (patterned.length < 2 || options.refsPerPush > 0) return false
    const estimate = await packEstimate(patterned.map(update => update.oid))
    if (estimate > budget) return false
    const refusal = await send(['+refs/*:refs/*', '^refs/backup/*', '^refs/pull/*'], estimate)
    if (refusal) return false
    for (const update of patterned) known.add(update.oid)
    summary.refsSet += patterned.length
    // The pattern leaves out refs/backup/, so a ref pushed along (the metadata archive) goes by name.
    await pushSets(all.filter(update => !isPushableRef(update.ref)))
    return true
  }

  const sets = plan.updates.filter((update): update is RefUpdate & { oid: string } => !!update.oid)
  const deletions = plan.updates.filter(update => !update.oid)
  if (!(await pushAllAtOnce(sets))) await pushSets(sets)
  await options.beforeDeletes?.()
  for (let index = 0; index < deletions.length;) {
    const batch = deletions.slice(index, index + refLimit)
    const refusal = await send(
      batch.map(update => `:${update.ref}`),
      0
    )
    if (refusal?.kind === 'ref-limit') {
      refLimit = lowerRefLimit(refusal.limit, batch.length)
      continue
    }
    if (refusal) throw new PushRefusedError('GH013', `${name} refused to delete refs`)
    summary.refsDeleted += batch.length
    index += batch.length
  }
  return summary
}
