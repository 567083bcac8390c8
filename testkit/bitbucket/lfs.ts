// Git LFS for the local Bitbucket: the batch API on the Bitbucket origin hands out signed hrefs to a
// separate object storage origin that, like real object storage, refuses any Authorization header.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as path from 'node:path'
import { authorizeGit, type GitIdentity, type Refusal } from './auth.js'
import { takeGitFault } from './faults.js'
import type { GitTarget } from './git-http.js'
import { lfsDirOf, type Repo, type State } from './types.js'

const LFS_TYPE = 'application/vnd.git-lfs+json'
const EXPIRES_IN = 3600
const OID = /^[0-9a-f]{64}$/

type Finish = (status: number, bytes: number) => void

function sendJson(
  res: http.ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {}
): [number, number] {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': LFS_TYPE, ...headers }).end(text)
  return [status, Buffer.byteLength(text)]
}

/** An LFS API error body (`message`, `request_id`), with the Basic challenge on 401. */
export function lfsRefusal(res: http.ServerResponse, refusal: Refusal): [number, number] {
  const challenge: Record<string, string> =
    refusal.status === 401 ? { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' } : {}
  return sendJson(
    res,
    refusal.status,
    { message: refusal.message, request_id: randomUUID() },
    challenge
  )
}

function signature(state: State, fields: string[]): string {
  return createHmac('sha256', state.signingKey).update(fields.join('\n')).digest('hex')
}

function signedHref(
  state: State,
  op: 'download' | 'upload',
  repo: Repo,
  oid: string,
  size: number
) {
  const exp = String(Math.floor(Date.now() / 1000) + EXPIRES_IN)
  const r = repo.uuid.replace(/[{}]/g, '')
  const sig = signature(state, [op, r, oid, String(size), exp])
  const query = new URLSearchParams({ op, r, size: String(size), exp, sig })
  return `${state.storageOrigin}/objects/${oid}?${query}`
}

function storedSize(state: State, repo: Repo, oid: string): number | undefined {
  try {
    return fs.statSync(path.join(lfsDirOf(state, repo), oid)).size
  } catch {
    return undefined
  }
}

/** Writes an object whose content hashes to `oid` whole or not at all: a reader never sees half of it. */
export function storeObject(state: State, repo: Repo, oid: string, content: Buffer): void {
  const file = path.join(lfsDirOf(state, repo), oid)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temporary = `${file}.${randomUUID()}.tmp`
  fs.writeFileSync(temporary, content)
  fs.renameSync(temporary, file)
}

/** `POST info/lfs/objects/batch` and the locks endpoints, after the git auth rules admitted a reader. */
export function handleLfsApi(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: GitTarget,
  repo: Repo,
  identity: GitIdentity | undefined,
  body: Buffer,
  finish: Finish
): void {
  const mayWrite = (): Refusal | undefined =>
    identity
      ? authorizeGit(identity, repo, true)
      : { status: 401, message: 'Authentication required' }
  if (target.service === 'lfs-locks') {
    if (req.method === 'GET' && target.subpath === 'info/lfs/locks')
      return finish(...sendJson(res, 200, { locks: [] }))
    if (req.method === 'POST' && target.subpath === 'info/lfs/locks/verify') {
      const refusal = mayWrite()
      return finish(
        ...(refusal ? lfsRefusal(res, refusal) : sendJson(res, 200, { ours: [], theirs: [] }))
      )
    }
    return finish(...lfsRefusal(res, { status: 404, message: 'Not found' }))
  }
  if (req.method !== 'POST')
    return finish(...lfsRefusal(res, { status: 405, message: 'Method not allowed' }))
  let request: {
    operation?: unknown
    transfers?: unknown
    hash_algo?: unknown
    objects?: { oid?: unknown; size?: unknown }[]
  }
  try {
    request = JSON.parse(body.toString('utf8'))
  } catch {
    return finish(...lfsRefusal(res, { status: 422, message: 'Invalid JSON request body' }))
  }
  const { operation, objects } = request
  if ((operation !== 'download' && operation !== 'upload') || !Array.isArray(objects))
    return finish(...lfsRefusal(res, { status: 422, message: 'Invalid batch request' }))
  if (request.hash_algo !== undefined && request.hash_algo !== 'sha256')
    return finish(...lfsRefusal(res, { status: 409, message: 'Unsupported hash algorithm' }))
  if (Array.isArray(request.transfers) && !request.transfers.includes('basic'))
    return finish(
      ...lfsRefusal(res, { status: 422, message: 'Only the basic transfer is supported' })
    )
  if (operation === 'upload') {
    const refusal = mayWrite()
    if (refusal) return finish(...lfsRefusal(res, refusal))
  }
  const answered = objects.map(object => {
    const { oid, size } = object
    if (
      typeof oid !== 'string' ||
      !OID.test(oid) ||
      !Number.isSafeInteger(size) ||
      Number(size) < 0
    )
      return { oid, size, error: { code: 422, message: 'Invalid object' } }
    const stored = storedSize(state, repo, oid)
    if (operation === 'download') {
      if (stored === undefined)
        return { oid, size, error: { code: 404, message: 'Object does not exist' } }
      const href = signedHref(state, 'download', repo, oid, stored)
      return { oid, size: stored, actions: { download: { href, expires_in: EXPIRES_IN } } }
    }
    if (stored === size) return { oid, size }
    const href = signedHref(state, 'upload', repo, oid, Number(size))
    return { oid, size, actions: { upload: { href, expires_in: EXPIRES_IN } } }
  })
  finish(...sendJson(res, 200, { transfer: 'basic', objects: answered, hash_algo: 'sha256' }))
}

function azureError(res: http.ServerResponse, status: number, code: string, message: string) {
  const text =
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\n` +
    `RequestId:${randomUUID()}\nTime:${new Date().toISOString()}</Message></Error>`
  res.writeHead(status, { 'Content-Type': 'application/xml' }).end(text)
  return [status, Buffer.byteLength(text)] as const
}

/** The storage origin: signed GET and PUT of `/objects/<oid>`; any Authorization header is a 400. */
export function handleStorage(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  body: Buffer
): void {
  const q = (name: string) => url.searchParams.get(name) ?? ''
  const repo = [...state.workspaces.values()]
    .flatMap(ws => ws.repos)
    .find(candidate => candidate.uuid.replace(/[{}]/g, '') === q('r'))
  const upload = req.method === 'PUT'
  const entry = {
    method: req.method ?? 'GET',
    path: `${url.pathname}${url.search}`,
    service: upload ? ('lfs-upload' as const) : ('lfs-download' as const),
    repository: repo ? `${repo.workspace}/${repo.slug}` : '',
    authorization: Boolean(req.headers.authorization)
  }
  if (takeGitFault(state, req, res, entry)) return
  const finish = (result: readonly [number, number]) => {
    state.gitRequests.push({ ...entry, status: result[0], responseBytes: result[1] })
  }
  if (req.headers.authorization) {
    return finish(
      azureError(
        res,
        400,
        'InvalidAuthenticationInfo',
        'Authentication information is not given in the correct format. Check the value of Authorization header.'
      )
    )
  }
  const match = /^\/objects\/([0-9a-f]{64})$/.exec(url.pathname)
  if (!match || (req.method !== 'GET' && !upload))
    return finish(
      azureError(res, 404, 'ResourceNotFound', 'The specified resource does not exist.')
    )
  const oid = match[1]
  const expected = Buffer.from(signature(state, [q('op'), q('r'), oid, q('size'), q('exp')]))
  const given = Buffer.from(q('sig'))
  const signed =
    given.length === expected.length &&
    timingSafeEqual(given, expected) &&
    q('op') === (upload ? 'upload' : 'download') &&
    Number(q('exp')) * 1000 > Date.now()
  if (!signed || !repo) {
    return finish(
      azureError(
        res,
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of the signature is formed correctly.'
      )
    )
  }
  const file = path.join(lfsDirOf(state, repo), oid)
  if (!upload) {
    if (!fs.existsSync(file))
      return finish(azureError(res, 404, 'BlobNotFound', 'The specified blob does not exist.'))
    // Streamed: benchmarks serve objects of hundreds of megabytes.
    const size = fs.statSync(file).size
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size })
    fs.createReadStream(file).pipe(res)
    return finish([200, size])
  }
  const digest = createHash('sha256').update(body).digest('hex')
  if (digest !== oid || String(body.length) !== q('size'))
    return finish(
      azureError(res, 400, 'InvalidBlobContent', 'The content does not match its name.')
    )
  storeObject(state, repo, oid, body)
  res.writeHead(201, { 'Content-Length': 0 }).end()
  finish([201, 0])
}
