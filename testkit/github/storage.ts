// The object storage of the local GitHub: a separate origin, like the object store behind GitHub's
// LFS and release assets, that takes only signed URLs, refuses any Authorization header, and streams
// LFS objects to and from disk while checking their size and SHA-256, and release assets from disk.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fullName, lfsDirOf, type Repo, type State, type StoredAsset } from './types.js'

export const EXPIRES_IN = 3600
export type StorageOperation = 'upload' | 'download'

function signature(state: State, fields: (string | number)[]): string {
  return createHmac('sha256', state.signingKey).update(fields.join('\n')).digest('hex')
}

/** A URL on the storage origin good for one operation on one object for `EXPIRES_IN` seconds. */
export function signedHref(
  state: State,
  op: StorageOperation,
  repo: Repo,
  oid: string,
  size: number
): string {
  const exp = Math.floor(Date.now() / 1000) + EXPIRES_IN
  const sig = signature(state, [op, repo.id, oid, size, exp])
  const query = new URLSearchParams({ op, size: String(size), exp: String(exp), sig })
  return `${state.storageOrigin}/repositories/${repo.id}/objects/${oid}?${query}`
}

/** A release asset's bytes on the storage origin, as GitHub's redirect for `Accept: application/octet-stream`. */
export function signedAssetHref(state: State, asset: StoredAsset): string {
  const exp = Math.floor(Date.now() / 1000) + EXPIRES_IN
  const sig = signature(state, ['asset', asset.id, exp])
  return `${state.storageOrigin}/release-assets/${asset.id}?${new URLSearchParams({ exp: String(exp), sig })}`
}

/** Streams a release asset to a signed GET. */
function serveAsset(state: State, res: http.ServerResponse, url: URL, id: string): number {
  const q = (name: string) => url.searchParams.get(name) ?? ''
  const expected = Buffer.from(signature(state, ['asset', id, q('exp')]))
  const given = Buffer.from(q('sig'))
  const asset = state.assets.find(each => String(each.id) === id && each.state === 'uploaded')
  const signed =
    given.length === expected.length &&
    timingSafeEqual(given, expected) &&
    Number(q('exp')) * 1000 > Date.now()
  if (!signed || !asset)
    return xmlError(res, 403, 'SignatureDoesNotMatch', 'The request signature does not match.')
  res.writeHead(200, { 'Content-Type': asset.contentType, 'Content-Length': asset.size })
  fs.createReadStream(asset.file).pipe(res)
  return 200
}

export const objectPath = (state: State, repo: Repo, oid: string): string =>
  path.join(lfsDirOf(state, repo), oid)

export function storedSize(state: State, repo: Repo, oid: string): number | undefined {
  try {
    return fs.statSync(objectPath(state, repo, oid)).size
  } catch {
    return undefined
  }
}

function xmlError(res: http.ServerResponse, status: number, code: string, message: string): number {
  const text =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message><RequestId>${randomUUID()}</RequestId></Error>`
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': text.length })
  res.end(text)
  return status
}

export function handleStorage(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL
): void {
  const method = req.method ?? 'GET'
  const log = (status: number): void => {
    state.storageRequests.push({
      method,
      path: `${url.pathname}${url.search}`,
      authorization: Boolean(req.headers.authorization),
      status
    })
  }
  const refuse = (status: number, code: string, message: string) => {
    req.resume()
    log(xmlError(res, status, code, message))
  }
  if (req.headers.authorization)
    return refuse(
      403,
      'AccessDenied',
      'Only one auth mechanism allowed; the signed URL already authorizes this request.'
    )
  const asset = /^\/release-assets\/(\d+)$/.exec(url.pathname)
  if (asset && method === 'GET') return log(serveAsset(state, res, url, asset[1]))
  const match = /^\/repositories\/(\d+)\/objects\/([0-9a-f]{64})$/.exec(url.pathname)
  const op = method === 'PUT' ? 'upload' : method === 'GET' ? 'download' : undefined
  if (!match || !op) return refuse(404, 'NoSuchKey', 'The specified key does not exist.')
  const oid = match[2]
  const repo = [...state.repos.values()].find(r => String(r.id) === match[1])
  const q = (name: string) => url.searchParams.get(name) ?? ''
  const expected = Buffer.from(signature(state, [q('op'), match[1], oid, q('size'), q('exp')]))
  const given = Buffer.from(q('sig'))
  const signed =
    given.length === expected.length &&
    timingSafeEqual(given, expected) &&
    q('op') === op &&
    Number(q('exp')) * 1000 > Date.now()
  if (!signed || !repo)
    return refuse(403, 'SignatureDoesNotMatch', 'The request signature does not match.')
  const file = objectPath(state, repo, oid)
  if (op === 'download') {
    let size: number
    try {
      size = fs.statSync(file).size
    } catch {
      return refuse(404, 'NoSuchKey', 'The specified key does not exist.')
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size })
    fs.createReadStream(file).pipe(res)
    return log(200)
  }
  const size = Number(q('size'))
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) !== size)
    return refuse(400, 'IncompleteBody', 'The Content-Length does not match the signed size.')
  void receiveObject(state, req, res, repo, oid, size, log)
}

/** Streams an uploaded object to a temporary file, then keeps it only if size and SHA-256 match. */
async function receiveObject(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  repo: Repo,
  oid: string,
  size: number,
  log: (status: number) => void
): Promise<void> {
  const file = objectPath(state, repo, oid)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temporary = `${file}.${randomUUID()}.tmp`
  const hash = createHash('sha256')
  let received = 0
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      received += chunk.length
      callback(null, chunk)
    }
  })
  try {
    await pipeline(req, tap, fs.createWriteStream(temporary))
  } catch {
    fs.rmSync(temporary, { force: true })
    if (!res.headersSent) log(xmlError(res, 400, 'IncompleteBody', 'The upload was cut short.'))
    return
  }
  if (received !== size || hash.digest('hex') !== oid) {
    fs.rmSync(temporary, { force: true })
    return log(xmlError(res, 400, 'BadDigest', 'The content does not match its size and SHA-256.'))
  }
  fs.renameSync(temporary, file)
  state.lfsUploads.push({ repository: fullName(repo), oid, size })
  res.writeHead(200, { 'Content-Length': 0 }).end()
  log(200)
}
