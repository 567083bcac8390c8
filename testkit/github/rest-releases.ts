// The releases REST API of the local GitHub, as GitHub serves it: list (drafts only to those who may
// push), create (a published release tags the default branch's head, which an empty repository
// cannot; a draft needs no tag), publish a draft (PATCH with draft: false, which tags it), get by id
// or by tag (published only), list a release's assets, get an asset (its bytes, with Accept:
// application/octet-stream, as a redirect to storage) and delete it. Uploads and the bytes of
// browser_download_url are in release-files.ts.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { permissionsOf, REQUIRES_AUTH, isIntegration } from './auth.js'
import { answer, NOT_ACCESSIBLE, notFound, type Answer } from './rest-json.js'
import { defaultBranchOf, gitEnv, isEmpty } from './repository.js'
import { signedAssetHref } from './storage.js'
import {
  findRepo,
  fullName,
  gitDirOf,
  type Repo,
  type State,
  type StoredAsset,
  type StoredRelease,
  type Token
} from './types.js'

const timestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')

/** What a draft's URLs name in place of its tag, as GitHub's `untagged-<hash>`. */
export const urlTag = (release: StoredRelease): string =>
  release.draft ? `untagged-${release.id.toString(16).padStart(20, '0')}` : release.tagName

export function assetJson(state: State, repo: Repo, release: StoredRelease, asset: StoredAsset) {
  return {
    url: `${state.apiUrl}/repos/${fullName(repo)}/releases/assets/${asset.id}`,
    id: asset.id,
    node_id: Buffer.from(`010:ReleaseAsset${asset.id}`).toString('base64'),
    name: asset.name,
    label: asset.label,
    content_type: asset.contentType,
    state: asset.state,
    size: asset.size,
    download_count: 0,
    created_at: asset.createdAt,
    updated_at: asset.createdAt,
    browser_download_url: `${state.origin}/${fullName(repo)}/releases/download/${encodeURIComponent(urlTag(release))}/${encodeURIComponent(asset.name)}`
  }
}

function releaseJson(state: State, repo: Repo, release: StoredRelease) {
  const url = `${state.apiUrl}/repos/${fullName(repo)}/releases/${release.id}`
  const uploads = `${state.origin}/api/uploads/repos/${fullName(repo)}/releases/${release.id}`
  return {
    url,
    assets_url: `${url}/assets`,
    upload_url: `${uploads}/assets{?name,label}`,
    html_url: `${state.origin}/${fullName(repo)}/releases/tag/${encodeURIComponent(urlTag(release))}`,
    id: release.id,
    node_id: Buffer.from(`07:Release${release.id}`).toString('base64'),
    tag_name: release.tagName,
    target_commitish: defaultBranchOf(state, repo),
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: false,
    created_at: release.createdAt,
    published_at: release.draft ? null : release.createdAt,
    assets: state.assets
      .filter(asset => asset.releaseId === release.id)
      .map(asset => assetJson(state, repo, release, asset))
  }
}

/** One page (per_page up to 100) with GitHub's Link header to the next and last. */
function paged(state: State, url: URL, items: object[]): Answer {
  const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30))
  const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
  const last = Math.max(1, Math.ceil(items.length / perPage))
  const at = (n: number) => {
    const link = new URL(`${url.pathname}${url.search}`, state.origin)
    link.searchParams.set('page', String(n))
    return `<${link}>`
  }
  const links = page < last ? [`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`] : []
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { Link: links.join(', ') } : {}
  }
}

const validation = (resource: string, code: string, extra: object = {}): Answer =>
  answer(422, 'Validation Failed', { errors: [{ resource, code, ...extra }] })

/** Publishing makes the tag (on the default branch unless it exists), which needs a commit. */
function tagRelease(state: State, repo: Repo, release: StoredRelease): Answer | undefined {
  if (isEmpty(state, repo))
    return validation('Release', 'custom', { message: 'Repository is empty.' })
  const cwd = gitDirOf(state, repo)
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd, env: gitEnv(state) })
      .toString()
      .trim()
  const tag = release.tagName
  const existing = git(['for-each-ref', '--format=%(objectname)', `refs/tags/${tag}`])
  release.targetCommit =
    existing || git(['rev-parse', `refs/heads/${defaultBranchOf(state, repo)}`])
  if (!existing) git(['update-ref', `refs/tags/${tag}`, release.targetCommit])
  return undefined
}

/** `PATCH .../releases/{id}`: name, body, and `draft: false` to publish a draft (which tags it). */
function updateRelease(
  state: State,
  repo: Repo,
  release: StoredRelease,
  body: Record<string, unknown> | undefined
): Answer {
  if (body?.draft === false && release.draft) {
    const refused = tagRelease(state, repo, release)
    if (refused) return refused
    release.draft = false
  }
  if (typeof body?.name === 'string') release.name = body.name
  if (typeof body?.body === 'string') release.body = body.body
  return { status: 200, body: releaseJson(state, repo, release) }
}

function createRelease(state: State, repo: Repo, body: Record<string, unknown> | undefined) {
  const tag = body?.tag_name
  if (typeof tag !== 'string' || tag === '')
    return validation('Release', 'missing_field', { field: 'tag_name' })
  const ofRepo = state.releases.filter(release => release.repoId === repo.id)
  if (ofRepo.some(release => release.tagName === tag))
    return validation('Release', 'already_exists', { field: 'tag_name' })
  const draft = body?.draft === true
  const release: StoredRelease = {
    id: state.nextId++,
    repoId: repo.id,
    tagName: tag,
    name: typeof body?.name === 'string' ? body.name : null,
    body: typeof body?.body === 'string' ? body.body : null,
    draft,
    createdAt: timestamp()
  }
  if (!draft) {
    const refused = tagRelease(state, repo, release)
    if (refused) return refused
  }
  state.releases.push(release)
  return { status: 201, body: releaseJson(state, repo, release) }
}

/** `/repos/{owner}/{repo}/releases...`, or undefined for another route. */
export function routeReleases(
  state: State,
  method: string,
  parts: string[],
  token: Token | undefined,
  body: Record<string, unknown> | undefined,
  url: URL,
  accept?: string
): Answer | undefined {
  const [, owner, name, releases, second, third, fourth] = parts
  if (releases !== 'releases') return undefined
  const repo = findRepo(state, owner, name)
  const permissions = repo && permissionsOf(token, repo)
  if (!repo || !permissions?.pull) return notFound()
  const refused = (): Answer | undefined =>
    !token
      ? answer(401, REQUIRES_AUTH)
      : !permissions.push
        ? answer(403, isIntegration(token) ? NOT_ACCESSIBLE : 'Must have push access')
        : undefined
  // Drafts exist only for those who may push.
  const visible = state.releases.filter(
    release => release.repoId === repo.id && (!release.draft || permissions.push)
  )
  const byId = (id: string | undefined) => visible.find(release => String(release.id) === id)
  if (second === undefined) {
    if (method === 'POST') return refused() ?? createRelease(state, repo, body)
    if (method !== 'GET') return notFound()
    const newestFirst = [...visible].reverse()
    return paged(
      state,
      url,
      newestFirst.map(release => releaseJson(state, repo, release))
    )
  }
  if (method === 'GET' && second === 'tags' && third !== undefined && fourth === undefined) {
    const release = visible.find(each => !each.draft && each.tagName === third)
    return release ? { status: 200, body: releaseJson(state, repo, release) } : notFound()
  }
  if (second === 'assets' && third !== undefined && fourth === undefined) {
    const asset = state.assets.find(each => String(each.id) === third)
    const release = asset && byId(String(asset.releaseId))
    if (!asset || !release) return notFound()
    // The bytes: a redirect to a signed URL on the storage origin, which takes no token.
    if (method === 'GET' && accept === 'application/octet-stream' && asset.state === 'uploaded')
      return { status: 302, body: undefined, headers: { Location: signedAssetHref(state, asset) } }
    if (method === 'GET') return { status: 200, body: assetJson(state, repo, release, asset) }
    if (method !== 'DELETE') return notFound()
    const refusal = refused()
    if (refusal) return refusal
    state.assets.splice(state.assets.indexOf(asset), 1)
    fs.rmSync(asset.file, { force: true })
    return { status: 204, body: undefined }
  }
  const release = byId(second)
  if (!release) return notFound()
  if (method === 'GET' && third === undefined)
    return { status: 200, body: releaseJson(state, repo, release) }
  if (method === 'PATCH' && third === undefined)
    return refused() ?? updateRelease(state, repo, release, body)
  if (method === 'GET' && third === 'assets' && fourth === undefined) {
    const assets = state.assets.filter(asset => asset.releaseId === release.id)
    return paged(
      state,
      url,
      assets.map(asset => assetJson(state, repo, release, asset))
    )
  }
  return notFound()
}
