// The bytes of release assets on the local GitHub: uploads to the `upload_url` GitHub hands out
// (`/api/uploads/...` on Enterprise Server, `uploads.github.com` on github.com), streamed to disk
// with the raw body, its Content-Type and Content-Length; downloads at `browser_download_url`.
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { authenticateRest, permissionsOf, REQUIRES_AUTH } from './auth.js'
import { assetJson, urlTag } from './rest-releases.js'
import { sendJson } from './server.js'
import { errorBody, findRepo, type State, type StoredAsset } from './types.js'

/**
 * GitHub's renaming of an asset's file name: characters other than letters, digits, `.`, `-` and
 * `_` become `.`, and leading or trailing periods go.
 */
export function githubAssetName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '.').replace(/^\.+|\.+$/g, '') || 'default'
}

const UPLOAD_PATH = /^\/api\/uploads\/repos\/([^/]+)\/([^/]+)\/releases\/(\d+)\/assets$/
const DOWNLOAD_PATH = /^\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/

/** Whether the path is an upload or an asset download (for the main server's routing). */
export const isReleaseFilePath = (pathname: string): boolean =>
  UPLOAD_PATH.test(pathname) || DOWNLOAD_PATH.test(pathname)

export function handleReleaseFile(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL
): void {
  const method = req.method ?? 'GET'
  const log = (status: number): void => {
    state.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      status,
      authorization: Boolean(req.headers.authorization)
    })
  }
  const fail = (status: number, message: string, extra: object = {}) => {
    req.resume()
    log(sendJson(res, status, errorBody(status, message, extra)))
  }
  const caller = authenticateRest(state, req.headers.authorization)
  if ('status' in caller) return fail(401, caller.message)
  const upload = UPLOAD_PATH.exec(url.pathname)
  const match = upload ?? DOWNLOAD_PATH.exec(url.pathname)!
  const repo = findRepo(state, decodeURIComponent(match[1]), decodeURIComponent(match[2]))
  const permissions = repo && permissionsOf(caller.token, repo)
  if (!repo || !permissions?.pull) return fail(404, 'Not Found')
  const ofRepo = state.releases.filter(
    release => release.repoId === repo.id && (!release.draft || permissions.push)
  )
  if (!upload) {
    if (method !== 'GET') return fail(404, 'Not Found')
    const [tag, name] = [decodeURIComponent(match[3]), decodeURIComponent(match[4])]
    const release = ofRepo.find(each => urlTag(each) === tag)
    const asset = state.assets.find(
      each => each.releaseId === release?.id && each.name === name && each.state === 'uploaded'
    )
    if (!asset) return fail(404, 'Not Found')
    res.writeHead(200, { 'Content-Type': asset.contentType, 'Content-Length': asset.size })
    fs.createReadStream(asset.file).pipe(res)
    return log(200)
  }
  const release = ofRepo.find(each => String(each.id) === match[3])
  if (method !== 'POST' || !release) return fail(404, 'Not Found')
  if (!caller.token) return fail(401, REQUIRES_AUTH)
  if (!permissions.push) return fail(403, 'Must have push access')
  const rawName = url.searchParams.get('name')
  if (!rawName)
    return fail(422, 'Validation Failed', { errors: [{ field: 'name', code: 'missing' }] })
  const contentType = req.headers['content-type']
  if (!contentType) return fail(422, 'Bad Content-Type header value')
  const length = Number(req.headers['content-length'])
  if (req.headers['content-length'] === undefined || !Number.isInteger(length))
    return fail(411, 'Length Required')
  const name = githubAssetName(rawName)
  if (state.assets.some(each => each.releaseId === release.id && each.name === name)) {
    const errors = [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }]
    return fail(422, 'Validation Failed', { errors })
  }
  const id = state.nextId++
  const dir = path.join(state.root, 'release-assets')
  fs.mkdirSync(dir, { recursive: true })
  const asset: StoredAsset = {
    id,
    releaseId: release.id,
    name,
    label: url.searchParams.get('label'),
    contentType,
    size: length,
    state: 'starter',
    file: path.join(dir, String(id)),
    createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  }
  // Kept from the first byte: an upload cut short leaves a `starter` asset, as on GitHub.
  state.assets.push(asset)
  void pipeline(req, fs.createWriteStream(asset.file)).then(
    () => {
      if (fs.statSync(asset.file).size !== length) return fail(400, 'Bad Content-Length')
      asset.state = 'uploaded'
      log(sendJson(res, 201, assetJson(state, repo, release, asset)))
    },
    () => fail(400, 'Upload cut short')
  )
}
