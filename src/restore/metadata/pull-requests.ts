// --reopen-pull-requests: each archived pull request that was OPEN becomes a new pull request on the
// destination, with its title, branches and description, and a line saying where its conversation is
// archived. Pull requests themselves are archive-only (new ids, the restorer as author, today's dates):
// this gives reviewers somewhere to continue, nothing more.
import { ArchivePaths, METADATA_REF, type ArchivedPullRequest } from '../../metadata/layout.js'
import { attempt, count, listAll, type MetadataContext } from './context.js'

const PULL_REQUEST_FILE = /^pull-requests\/\d+\.json$/
/** The largest page Bitbucket serves for pull requests. */
const PULL_REQUEST_PAGELEN = 50

interface OpenPullRequest {
  source?: { branch?: { name?: string } }
  destination?: { branch?: { name?: string } }
}

const pair = (pr: OpenPullRequest) =>
  `${pr.source?.branch?.name ?? ''} → ${pr.destination?.branch?.name ?? ''}`

/** The new description: the original first, then where the conversation is kept. */
export function reopenedDescription(archived: ArchivedPullRequest['pullRequest']): string {
  const author = archived.author?.display_name ?? archived.author?.nickname
  const line = `Restored from backup: originally #${archived.id}${author ? ` by ${author}` : ''}${archived.created_on ? ` (opened ${archived.created_on.slice(0, 10)})` : ''}, conversation archived in ${METADATA_REF} ${ArchivePaths.pullRequest(archived.id)}.`
  return archived.description ? `${archived.description}\n\n---\n${line}` : line
}

/**
 * @param branches the branches the destination has now (the restored refs)
 * @returns the notes: pull requests skipped, and why
 */
export async function reopenPullRequests(
  context: MetadataContext,
  branches: Set<string>
): Promise<string[]> {
  const files = context.archive.paths('pull-requests/').filter(file => PULL_REQUEST_FILE.test(file))
  const archived = [...(await context.archive.readJson<ArchivedPullRequest>(files)).values()]
    .map(entry => entry.pullRequest)
    .filter(pr => pr.state === 'OPEN')
    .sort((a, b) => a.id - b.id)
  if (archived.length === 0) return []
  const { api } = context
  const notes: string[] = []
  const open = await listAll<OpenPullRequest>(api, '/pullrequests?state=OPEN', PULL_REQUEST_PAGELEN)
  const taken = new Set(open.map(pair))
  for (const pr of archived) {
    const source = pr.source?.branch?.name
    const destination = pr.destination?.branch?.name
    const missing = [source, destination].filter(name => !name || !branches.has(name))
    if (missing.length > 0) {
      notes.push(
        `pull request #${pr.id} was not reopened: the destination has no branch ${missing.map(name => name ?? '(unnamed)').join(' or ')}`
      )
      continue
    }
    if (taken.has(pair(pr))) {
      notes.push(`pull request #${pr.id} was not reopened: ${pair(pr)} is open there already`)
      continue
    }
    const body = {
      title: pr.title ?? `Pull request #${pr.id}`,
      description: reopenedDescription(pr),
      source: { branch: { name: source } },
      destination: { branch: { name: destination } }
    }
    const opened = await attempt(context, `pull request #${pr.id}`, () =>
      api.client.getJson(`${api.base}/pullrequests`, { method: 'POST', body })
    )
    if (opened) {
      taken.add(pair(pr))
      count(context, 'pull requests reopened')
    }
  }
  return notes
}
