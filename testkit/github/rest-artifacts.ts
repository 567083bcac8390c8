// The Actions artifacts REST API of the local GitHub, as github.com serves it over the results service:
// a repository's artifacts newest first, a run's oldest first, one artifact, and its zip as a 302 to
// a short-lived signed blob URL.
import { createHash } from 'node:crypto'
import { permissionsOf, REQUIRES_AUTH } from './auth.js'
import { answer, notFound, type Answer } from './rest-json.js'
import {
  findRepo,
  fullName,
  type ArtifactStore,
  type Repo,
  type State,
  type StoredArtifact,
  type Token
} from './types.js'

/** GitHub's download redirect "expires after 1 minute". */
export const DOWNLOAD_URL_TTL_MS = 60_000
const PER_PAGE_DEFAULT = 30
const PER_PAGE_MAX = 100

const NO_ARTIFACTS: ArtifactStore = {
  artifacts: [],
  repositoryOf: () => undefined,
  downloadUrl: () => undefined,
  now: () => new Date()
}

/** GitHub's timestamps: seconds, no fraction. */
const timestamp = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z')

function artifactJson(state: State, repo: Repo, artifact: StoredArtifact, now: Date): object {
  const url = `${state.apiUrl}/repos/${fullName(repo)}/actions/artifacts/${artifact.id}`
  return {
    id: artifact.id,
    node_id: Buffer.from(`08:Artifact${artifact.id}`).toString('base64'),
    name: artifact.name,
    size_in_bytes: artifact.size,
    url,
    archive_download_url: `${url}/zip`,
    expired: artifact.expiresAt.getTime() <= now.getTime(),
    digest: artifact.digest ?? null,
    created_at: timestamp(artifact.createdAt),
    updated_at: timestamp(artifact.finalizedAt ?? artifact.createdAt),
    expires_at: timestamp(artifact.expiresAt),
    workflow_run: {
      id: Number(artifact.runId),
      repository_id: repo.id,
      head_repository_id: repo.id,
      head_branch: 'main',
      // The stand-in knows no commits of a run: a stable, well-formed stand-in for one.
      head_sha: createHash('sha1').update(`run ${artifact.runId}`).digest('hex')
    }
  }
}

/** A positive integer query parameter, or the default when absent or not one (as GitHub ignores it). */
function intParam(url: URL, name: string, fallback: number): number {
  const value = Number(url.searchParams.get(name))
  return Number.isInteger(value) && value > 0 ? value : fallback
}

/** GitHub's `Link` header: first/prev/next/last pages of the same request. */
function linkHeader(state: State, url: URL, page: number, last: number): Record<string, string> {
  const at = (n: number) => {
    const link = new URL(`${url.pathname}${url.search}`, state.origin)
    link.searchParams.set('page', String(n))
    return `<${link}>`
  }
  const links = [
    ...(page > 1 ? [`${at(page - 1)}; rel="prev"`] : []),
    ...(page < last ? [`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`] : []),
    ...(page > 1 ? [`${at(1)}; rel="first"`] : [])
  ]
  return links.length > 0 ? { Link: links.join(', ') } : {}
}

/** One page in creation order, `newest` first or last, with `total_count` of all that match. */
function listPage(
  state: State,
  url: URL,
  repo: Repo,
  artifacts: StoredArtifact[],
  newest: 'first' | 'last'
): Answer {
  const name = url.searchParams.get('name')
  const sign = newest === 'first' ? -1 : 1
  const matching = artifacts
    .filter(artifact => name === null || artifact.name === name)
    .sort((a, b) => sign * (a.createdAt.getTime() - b.createdAt.getTime() || a.id - b.id))
  const perPage = Math.min(intParam(url, 'per_page', PER_PAGE_DEFAULT), PER_PAGE_MAX)
  const page = intParam(url, 'page', 1)
  const now = (state.artifacts ?? NO_ARTIFACTS).now()
  return {
    status: 200,
    body: {
      total_count: matching.length,
      artifacts: matching
        .slice((page - 1) * perPage, page * perPage)
        .map(artifact => artifactJson(state, repo, artifact, now))
    },
    headers: linkHeader(state, url, page, Math.max(1, Math.ceil(matching.length / perPage)))
  }
}

/** The zip of an artifact: a 302 to a short-lived signed URL on the blob store, which needs no token. */
function download(store: ArtifactStore, artifact: StoredArtifact, token: Token | undefined) {
  if (!token) return answer(401, REQUIRES_AUTH)
  if (artifact.expiresAt.getTime() <= store.now().getTime())
    return answer(410, 'Artifact has expired')
  const location = store.downloadUrl(artifact.id, DOWNLOAD_URL_TTL_MS)
  if (!location) return notFound()
  return { status: 302, body: undefined, headers: { Location: location } }
}

/**
 * `GET /repos/{owner}/{repo}/actions/artifacts...` and `.../actions/runs/{id}/artifacts`, or
 * undefined for another route. A repository the caller may not read, or a run or artifact of
 * another repository, is a 404.
 */
export function routeArtifacts(
  state: State,
  method: string,
  parts: string[],
  token: Token | undefined,
  url: URL
): Answer | undefined {
  const [, owner, name, actions, kind, id, rest, extra] = parts
  if (method !== 'GET' || actions !== 'actions') return undefined
  if (kind !== 'artifacts' && kind !== 'runs') return undefined
  const repo = findRepo(state, owner, name)
  if (!repo || !permissionsOf(token, repo).pull) return notFound()
  const store = state.artifacts ?? NO_ARTIFACTS
  const ofRepo = (runId: string) =>
    store.repositoryOf(runId)?.toLowerCase() === fullName(repo).toLowerCase()
  const own = store.artifacts.filter(artifact => ofRepo(artifact.runId))
  if (kind === 'runs') {
    if (!/^\d+$/.test(id ?? '') || rest !== 'artifacts' || extra !== undefined) return notFound()
    if (!ofRepo(id)) return notFound()
    // A run lists oldest first: an older attempt's artifact comes before a re-run's (cli/cli#12437).
    const ofRun = own.filter(artifact => artifact.runId === id)
    return listPage(state, url, repo, ofRun, 'last')
  }
  if (id === undefined) return listPage(state, url, repo, own, 'first')
  const artifact = own.find(candidate => String(candidate.id) === id)
  if (!artifact || extra !== undefined) return notFound()
  if (rest === undefined)
    return { status: 200, body: artifactJson(state, repo, artifact, store.now()) }
  return rest === 'zip' ? download(store, artifact, token) : notFound()
}
