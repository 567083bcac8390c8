// GitHub's release calls for the one REST client in api.ts (which owns the token and the retries):
// find and create a release, list, upload, delete and read back its assets. Uploads go to the host the
// release's upload_url names, and only when that is the API's own uploads origin.
import type { Readable } from 'node:stream'

export interface GitHubRelease {
  id: number
  tagName: string
  name: string | null
  draft: boolean
  /** GitHub's template, `.../releases/{id}/assets{?name,label}`. */
  uploadUrl: string
  htmlUrl: string
}

export interface GitHubReleaseAsset {
  id: number
  name: string
  label: string | null
  size: number
  /** `uploaded`, or `starter` for an upload that never finished (it must be deleted to retry). */
  state: string
  contentType: string
  browserDownloadUrl: string
}

export interface NewRelease {
  tag: string
  name: string
  body: string
  draft: boolean
}

export interface NewAsset {
  name: string
  label: string
  size: number
  contentType: string
  /** Opens the bytes again for each attempt. */
  open(): Promise<Readable>
}

/** The calls api.ts adds to GitHubApi. */
export interface ReleaseCalls {
  /** The release with this tag name, drafts included (GitHub's tags/{tag} route skips drafts). */
  findRelease(fullName: string, tag: string): Promise<GitHubRelease | undefined>
  createRelease(fullName: string, spec: NewRelease): Promise<GitHubRelease>
  listReleaseAssets(fullName: string, releaseId: number): Promise<GitHubReleaseAsset[]>
  uploadReleaseAsset(release: GitHubRelease, asset: NewAsset): Promise<GitHubReleaseAsset>
  deleteReleaseAsset(fullName: string, assetId: number): Promise<void>
  /** Where an asset's bytes are for a short while: a URL that takes no token. */
  releaseAssetDownloadUrl(fullName: string, assetId: number): Promise<string>
}

type Respond = <T>(
  route: string,
  parameters: Record<string, unknown> | (() => Promise<Record<string, unknown>>),
  missingOk?: boolean
) => Promise<{ data: T; headers: Record<string, string | number | undefined> } | undefined>

interface RawRelease {
  id: number
  tag_name: string
  name: string | null
  draft: boolean
  upload_url: string
  html_url: string
}

interface RawAsset {
  id: number
  name: string
  label: string | null
  size: number
  state: string
  content_type: string
  browser_download_url: string
}

const toRelease = (raw: RawRelease): GitHubRelease => ({
  id: raw.id,
  tagName: raw.tag_name,
  name: raw.name,
  draft: raw.draft,
  uploadUrl: raw.upload_url,
  htmlUrl: raw.html_url
})

const toAsset = (raw: RawAsset): GitHubReleaseAsset => ({
  id: raw.id,
  name: raw.name,
  label: raw.label,
  size: raw.size,
  state: raw.state,
  contentType: raw.content_type,
  browserDownloadUrl: raw.browser_download_url
})

/**
 * Where uploads may go with the token: uploads.github.com beside api.github.com (and
 * uploads.SUBDOMAIN.ghe.com beside api.SUBDOMAIN.ghe.com), the server itself on Enterprise Server
 * (`https://HOST/api/uploads` beside `https://HOST/api/v3`).
 */
export function uploadsOrigin(apiUrl: string): string {
  const url = new URL(apiUrl)
  if (url.hostname.startsWith('api.') && (url.pathname === '/' || url.pathname === '')) {
    url.hostname = `uploads.${url.hostname.slice('api.'.length)}`
  }
  return url.origin
}

/** The next page's URL from a Link header, when there is one. */
type NextLink = (header: string | undefined) => string | undefined

export function releaseCalls(apiUrl: string, respond: Respond, nextLink: NextLink): ReleaseCalls {
  const split = (fullName: string) => {
    const [owner, repo] = fullName.split('/')
    return { owner, repo }
  }

  /** Every item of a paged list, following GitHub's Link header. */
  async function* pages<T>(route: string, parameters: Record<string, unknown>) {
    let next: [string, Record<string, unknown>] | undefined = [
      route,
      { ...parameters, per_page: 100 }
    ]
    while (next) {
      const response: { data: T[]; headers: Record<string, unknown> } | undefined = await respond<
        T[]
      >(...next)
      yield* response?.data ?? []
      const link = response?.headers.link
      const linked = nextLink(typeof link === 'string' ? link : undefined)
      next = linked ? [`GET ${linked}`, {}] : undefined
    }
  }

  return {
    async findRelease(fullName, tag) {
      const route = 'GET /repos/{owner}/{repo}/releases'
      for await (const raw of pages<RawRelease>(route, split(fullName)))
        if (raw.tag_name === tag) return toRelease(raw)
      return undefined
    },

    async createRelease(fullName, spec) {
      const response = await respond<RawRelease>('POST /repos/{owner}/{repo}/releases', {
        ...split(fullName),
        tag_name: spec.tag,
        name: spec.name,
        body: spec.body,
        draft: spec.draft
      })
      return toRelease(response!.data)
    },

    async listReleaseAssets(fullName, releaseId) {
      const route = 'GET /repos/{owner}/{repo}/releases/{release_id}/assets'
      const assets: GitHubReleaseAsset[] = []
      for await (const raw of pages<RawAsset>(route, { ...split(fullName), release_id: releaseId }))
        assets.push(toAsset(raw))
      return assets
    },

    async uploadReleaseAsset(release, asset) {
      const allowed = uploadsOrigin(apiUrl)
      const target = new URL(release.uploadUrl.replace(/\{[^}]*\}$/, ''))
      // The token goes with the upload: only to the origin GitHub serves uploads from.
      if (target.origin !== allowed) {
        throw new Error(
          `release upload URL ${target.origin} is not ${allowed}, the uploads host of ${apiUrl}; nothing was sent there`
        )
      }
      // The upload_url template as the route: the request library expands its {?name,label}.
      const response = await respond<RawAsset>(`POST ${release.uploadUrl}`, async () => ({
        name: asset.name,
        label: asset.label,
        data: await asset.open(),
        headers: { 'content-type': asset.contentType, 'content-length': String(asset.size) }
      }))
      return toAsset(response!.data)
    },

    async deleteReleaseAsset(fullName, assetId) {
      const route = 'DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}'
      await respond(route, { ...split(fullName), asset_id: assetId }, true)
    },

    async releaseAssetDownloadUrl(fullName, assetId) {
      const route = 'GET /repos/{owner}/{repo}/releases/assets/{asset_id}'
      // The object store GitHub redirects to takes no token: it must never see the authorization header.
      const response = await respond(route, {
        ...split(fullName),
        asset_id: assetId,
        headers: { accept: 'application/octet-stream' },
        request: { redirect: 'manual' }
      })
      const location = response?.headers.location
      if (typeof location !== 'string') throw new Error(`${route} answered without a Location`)
      return location
    }
  }
}
