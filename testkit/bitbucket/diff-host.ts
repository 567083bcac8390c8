// The diff host: `GET .../pullrequests/{id}/diff` and `/patch` answer 302 to the repository diff of the
// pull request's revspec (`{ws}/{slug}:{source}%0D{destination}?from_pullrequest_id=..&topic=true`),
// here on an origin of its own so a client must follow the redirect, with a signature in place of a
// credential. It answers the diff and patch kept when the pull request was opened.
import type * as http from 'node:http'
import type { PullRequest } from './pull-request-model.js'
import { checkSignature, logStorage, signFields } from './signed-url.js'
import { findRepo, type Repo, type State } from './types.js'

type Kind = 'diff' | 'patch'

export function diffLocation(state: State, repo: Repo, pr: PullRequest, kind: Kind): string {
  const [source, destination] = [pr.source.commit.slice(0, 12), pr.destination.commit.slice(0, 12)]
  const { exp, sig } = signFields(state, [kind, repo.uuid, String(pr.id), source, destination])
  const spec = `${repo.workspace}/${repo.slug}:${source}%0D${destination}`
  const query = new URLSearchParams({ from_pullrequest_id: String(pr.id), topic: 'true', exp, sig })
  return `${state.diffOrigin}/2.0/repositories/${repo.workspace}/${repo.slug}/${kind}/${spec}?${query}`
}

const PATH =
  /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/(diff|patch)\/[^/]+\/[^/:]+:([0-9a-f]{12})%0D([0-9a-f]{12})$/

export function handleDiffHost(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL
) {
  const answer = (status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text)
    logStorage(state, 'diff', req, url, status)
  }
  const match = PATH.exec(url.pathname)
  if (!match || req.method !== 'GET') return answer(404, 'Not found\n')
  const [, workspace, slug, kind, source, destination] = match
  const id = url.searchParams.get('from_pullrequest_id') ?? ''
  const repo = findRepo(state, decodeURIComponent(workspace), decodeURIComponent(slug))
  const verdict = repo
    ? checkSignature(
        state,
        [kind, repo.uuid, id, source, destination],
        url.searchParams.get('exp') ?? '',
        url.searchParams.get('sig') ?? ''
      )
    : 'forged'
  if (verdict !== 'valid')
    return answer(403, `The link is ${verdict === 'expired' ? 'expired' : 'not valid'}.\n`)
  const pr = state.metadata.pullRequests
    .get(repo!.uuid)
    ?.find(candidate => String(candidate.id) === id)
  if (!pr) return answer(404, 'Not found\n')
  answer(200, kind === 'diff' ? pr.diff : pr.patch)
}
