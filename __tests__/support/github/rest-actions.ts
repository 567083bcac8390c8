// The Actions artifacts REST API of one repository, as GitHub documents it: list (newest first,
// paged), list a run's, get one, and download answering 302 to a short-lived signed blob URL. The
// artifacts are those a results service stand-in finalized: the blobs the toolkit uploaded (zips).
import { canSee, REQUIRES_AUTH } from './auth.js'
import { answer, notFound, type Answer } from './rest-json.js'
import { findRepo, fullName, type Repo, type State, type Token } from './types.js'

/** One finalized artifact as a results service holds it. */
export interface StoredArtifact {
  id: number
  /** The workflow run that uploaded it (GITHUB_RUN_ID). */
  runId: string
  name: string
  size: number
  digest?: string
  createdAt: Date
  expiresAt: Date
}

/** Where a repository's workflow artifacts live: the results service its runs upload to. */
export interface ArtifactStore {
  readonly artifacts: StoredArtifact[]
  /** A signed URL that GETs the artifact's zip, valid for `ttlMs`. */
  downloadUrl(artifact: StoredArtifact, ttlMs: number): string
}

const DOWNLOAD_URL_TTL_MS = 60_000

function artifactJson(state: State, repo: Repo, artifact: StoredArtifact): object {
  const url = `${state.apiUrl}/repos/${fullName(repo)}/actions/artifacts/${artifact.id}`
  return {
    id: artifact.id,
    node_id: Buffer.from(`04:Artifact${artifact.id}`).toString('base64'),
    name: artifact.name,
    size_in_bytes: artifact.size,
    url,
    archive_download_url: `${url}/zip`,
    expired: artifact.expiresAt.getTime() <= Date.now(),
    digest: artifact.digest ?? null,
    created_at: artifact.createdAt.toISOString(),
    updated_at: artifact.createdAt.toISOString(),
    expires_at: artifact.expiresAt.toISOString(),
    workflow_run: {
      id: Number(artifact.runId),
      repository_id: repo.id,
      head_repository_id: repo.id,
      head_branch: 'main',
      head_sha: '0'.repeat(40)
    }
  }
}

function listing(
  state: State,
  repo: Repo,
  found: StoredArtifact[],
  query: URLSearchParams
): Answer {
  const name = query.get('name')
  const matching = found
    .filter(artifact => !name || artifact.name === name)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30))
  const page = Math.max(1, Number(query.get('page') ?? 1) || 1)
  return {
    status: 200,
    body: {
      total_count: matching.length,
      artifacts: matching
        .slice((page - 1) * perPage, page * perPage)
        .map(artifact => artifactJson(state, repo, artifact))
    }
  }
}

/** The artifact routes under /repos/{owner}/{repo}/actions; undefined for any other request. */
export function routeActions(
  state: State,
  stores: Map<string, ArtifactStore>,
  method: string,
  parts: string[],
  query: URLSearchParams,
  token: Token | undefined
): Answer | undefined {
  const [first, owner, name, actions, ...rest] = parts
  if (method !== 'GET' || first !== 'repos' || actions !== 'actions') return undefined
  const repo = findRepo(state, owner, name)
  if (!repo || !canSee(token, repo)) return token ? notFound() : answer(401, REQUIRES_AUTH)
  const store = stores.get(fullName(repo).toLowerCase())
  const artifacts = store?.artifacts ?? []
  if (rest.length === 1 && rest[0] === 'artifacts') return listing(state, repo, artifacts, query)
  if (rest.length === 3 && rest[0] === 'runs' && rest[2] === 'artifacts') {
    const ofRun = artifacts.filter(artifact => artifact.runId === rest[1])
    return listing(state, repo, ofRun, query)
  }
  if (rest[0] !== 'artifacts' || rest.length < 2 || rest.length > 3) return undefined
  const artifact = artifacts.find(candidate => String(candidate.id) === rest[1])
  if (!artifact) return notFound()
  if (rest.length === 2) return { status: 200, body: artifactJson(state, repo, artifact) }
  if (rest[2] !== 'zip') return notFound()
  if (!token) return answer(401, REQUIRES_AUTH)
  if (artifact.expiresAt.getTime() <= Date.now()) return answer(410, 'Artifact has expired')
  return {
    status: 302,
    body: '',
    headers: { Location: store!.downloadUrl(artifact, DOWNLOAD_URL_TTL_MS) }
  }
}
