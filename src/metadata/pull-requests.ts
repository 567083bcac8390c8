// Pull requests, incrementally: one probe for those updated since the newest seen (or all of them on
// a full pass), then for each changed one the pull request, its comments, activity, tasks and
// statuses, and its diff when no ref of the mirror reaches its source commit.
import type { BitbucketClient } from '../bitbucket/client.js'
import type { Git } from '../git/git.js'
import type { Archive } from './archive.js'
import { bbqlDate } from './cadence.js'
import {
  ArchivePaths,
  type ApiComment,
  type ApiPullRequest,
  type ArchivedPullRequest
} from './layout.js'
import { openRedirected, saveBody } from './storage.js'

/** What the probe asks for: enough to tell what changed and what its sub-requests will cost. */
const PROBE_FIELDS = [
  'next',
  'values.id',
  'values.state',
  'values.updated_on',
  'values.comment_count',
  'values.task_count',
  // An approval or a change request may not move `updated_on`: the full pass compares reviews too.
  'values.participants.user.uuid',
  'values.participants.approved',
  'values.participants.state'
].join(',')
const STATES = ['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']
/** The largest page Bitbucket serves for pull requests (100 answers "Invalid pagelen"). */
const PULL_REQUEST_PAGELEN = 50

export interface PullRequestSummary {
  id: number
  state?: string
  updated_on?: string
  comment_count?: number
  task_count?: number
  participants?: ApiPullRequest['participants']
}

/** Who approved or asked for changes, in an order that does not depend on the answer's. */
function reviewsOf(participants: ApiPullRequest['participants']): string {
  return (participants ?? [])
    .map(p => `${p.user?.uuid ?? ''}:${p.approved === true}:${p.state ?? ''}`)
    .sort()
    .join(',')
}

/** `.../pullrequests?state=...&q=updated_on > <since>&sort=updated_on&pagelen=50&fields=...` */
export function probeUrl(base: string, since: string | undefined): string {
  const query = [
    ...STATES.map(state => `state=${state}`),
    ...(since ? [`q=${encodeURIComponent(`updated_on > ${bbqlDate(since)}`)}`] : []),
    'sort=updated_on',
    `pagelen=${PULL_REQUEST_PAGELEN}`,
    `fields=${encodeURIComponent(PROBE_FIELDS)}`
  ]
  return `${base}/pullrequests?${query.join('&')}`
}

/** Pull requests updated after `since` (every one without), oldest update first. */
export async function probePullRequests(
  client: BitbucketClient,
  base: string,
  since: string | undefined
): Promise<PullRequestSummary[]> {
  const found: PullRequestSummary[] = []
  for await (const page of client.pages<PullRequestSummary>(probeUrl(base, since), 'metadata'))
    found.push(...page)
  // Pages shift when a pull request is updated mid-walk: one may come twice.
  const byId = new Map(found.map(summary => [summary.id, summary]))
  return [...byId.values()].sort((a, b) =>
    (a.updated_on ?? '') < (b.updated_on ?? '') ? -1 : a.updated_on === b.updated_on ? 0 : 1
  )
}

/** REST requests archiving one pull request takes (its diff aside). */
export function pullRequestCost(summary: PullRequestSummary): number {
  return 3 + (summary.comment_count === 0 ? 0 : 1) + (summary.task_count === 0 ? 0 : 1)
}

/** On a full pass: whether the archived copy differs from what the list says now. */
export function differs(summary: PullRequestSummary, archived: ArchivedPullRequest | undefined) {
  const kept = archived?.pullRequest
  return (
    !kept ||
    kept.updated_on !== summary.updated_on ||
    kept.state !== summary.state ||
    (kept.comment_count ?? 0) !== (summary.comment_count ?? 0) ||
    (kept.task_count ?? 0) !== (summary.task_count ?? 0) ||
    (summary.participants !== undefined &&
      reviewsOf(kept.participants) !== reviewsOf(summary.participants))
  )
}

/** Whether some ref of the mirror reaches `commit` (an abbreviated id, as pull requests give it). */
export async function reachable(git: Git, gitDir: string, commit: string): Promise<boolean> {
  if (!/^[0-9a-f]{7,64}$/.test(commit)) return false
  const exists = await git.exec(['cat-file', '-e', `${commit}^{commit}`], { cwd: gitDir })
  if (exists.exitCode !== 0) return false
  const containing = await git.run(
    ['for-each-ref', '--count=1', '--format=%(refname)', '--contains', commit],
    { cwd: gitDir }
  )
  return containing.trim() !== ''
}

async function all<T>(client: BitbucketClient, url: string): Promise<T[]> {
  const items: T[] = []
  for await (const page of client.pages<T>(url, 'metadata')) items.push(...page)
  return items
}

export interface PullRequestWork {
  client: BitbucketClient
  git: Git
  gitDir: string
  /** `<api>/repositories/<workspace>/<slug>` */
  base: string
  archive: Archive
  /** Where the diff goes before it is hashed into the archive. */
  scratch: string
}

/** Fetches one pull request's whole review and stages it (and its diff when needed) in the archive. */
export async function archivePullRequest(
  work: PullRequestWork,
  summary: PullRequestSummary,
  previous: ArchivedPullRequest | undefined
): Promise<ArchivedPullRequest> {
  const { client, base, archive } = work
  const url = `${base}/pullrequests/${summary.id}`
  const pullRequest = await client.getJson<ApiPullRequest>(url, { purpose: 'metadata' })
  const comments =
    (pullRequest.comment_count ?? summary.comment_count) === 0
      ? []
      : await all<ApiComment>(client, `${url}/comments?pagelen=100`)
  const activity = await all<Record<string, unknown>>(client, `${url}/activity?pagelen=50`)
  const tasks =
    (pullRequest.task_count ?? summary.task_count) === 0
      ? []
      : await all<Record<string, unknown>>(client, `${url}/tasks?pagelen=100`)
  const statuses = await all<Record<string, unknown>>(client, `${url}/statuses?pagelen=100`)
  const source = pullRequest.source?.commit?.hash ?? ''
  const diffPath = ArchivePaths.pullRequestDiff(summary.id)
  const diffArchived = archive.paths(diffPath).includes(diffPath)
  let diffKept = false
  if (source && !(await reachable(work.git, work.gitDir, source))) {
    const sameSource = previous?.diffKept && previous.pullRequest.source?.commit?.hash === source
    // A diff already kept for this source commit is the same diff: not asked for again.
    if (!sameSource || !diffArchived) {
      const file = `${work.scratch}/${summary.id}.diff`
      await saveBody(await openRedirected(client, `${url}/diff`), file)
      archive.putFile(diffPath, file)
    }
    diffKept = true
  } else if (diffArchived) archive.remove(diffPath)
  const archived: ArchivedPullRequest = {
    pullRequest,
    comments,
    activity,
    tasks,
    statuses,
    diffKept
  }
  archive.putJson(ArchivePaths.pullRequest(summary.id), archived)
  return archived
}
