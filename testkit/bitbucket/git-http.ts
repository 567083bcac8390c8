// Git smart HTTP for the local Bitbucket, served by the real `git http-backend` CGI behind Bitbucket's
// git auth rules; also the front door of the LFS API, which shares those rules.
import { spawn } from 'node:child_process'
import type * as http from 'node:http'
import * as zlib from 'node:zlib'
import { authenticateGit, authorizeGit, type GitIdentity, type Refusal } from './auth.js'
import { relayCgi } from '../cgi.js'
import { takeGitFault } from './faults.js'
import { handleLfsApi, lfsRefusal } from './lfs.js'
import type { CachedAnswer } from './ref-cache.js'
import { settleHead } from './repository.js'
import {
  findRepo,
  gitDirOf,
  type GitRequest,
  type GitService,
  type Repo,
  type State
} from './types.js'

export interface GitTarget {
  workspace: string
  slug: string
  service: GitService
  /** The path below `<slug>.git/`, e.g. `info/refs` or `info/lfs/objects/batch`. */
  subpath: string
}

const GIT_PATH =
  /^\/([^/]+)\/([^/]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack|info\/lfs\/objects\/batch|info\/lfs\/locks(?:\/verify)?)$/
const SERVICES: Record<string, GitService> = {
  'info/refs': 'info-refs',
  'git-upload-pack': 'upload-pack',
  'git-receive-pack': 'receive-pack',
  'info/lfs/objects/batch': 'lfs-batch'
}

export function parseGitPath(pathname: string): GitTarget | undefined {
  const match = GIT_PATH.exec(pathname)
  if (!match) return undefined
  try {
    const [workspace, slug] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])]
    return { workspace, slug, subpath: match[3], service: SERVICES[match[3]] ?? 'lfs-locks' }
  } catch {
    return undefined
  }
}

/** The upload-pack command a POST body carries: v2 `command=...`, or `fetch` for a v0 body with wants. */
export function uploadPackCommand(body: Buffer, encoding?: string): GitRequest['command'] {
  let data = body
  if (encoding && /gzip/i.test(encoding)) {
    try {
      data = zlib.gunzipSync(body)
    } catch {
      return undefined
    }
  }
  let wants = false
  for (let offset = 0; offset + 4 <= data.length;) {
    const length = Number.parseInt(data.toString('latin1', offset, offset + 4), 16)
    if (!/^[0-9a-f]{4}$/i.test(data.toString('latin1', offset, offset + 4))) break
    if (length < 4) {
      offset += 4
      continue
    }
    const line = data.toString('latin1', offset + 4, offset + length)
    offset += length
    if (line.startsWith('command=')) {
      const command = line.slice('command='.length).trim()
      return command === 'ls-refs' || command === 'fetch' ? command : undefined
    }
    if (line.startsWith('want ')) wants = true
  }
  return wants ? 'fetch' : undefined
}

/** Who may do what: anonymous reads of public repositories, else Basic auth, 404, then permissions. */
function admit(
  state: State,
  header: string | undefined,
  repo: Repo | undefined,
  write: boolean
): { identity?: GitIdentity } | Refusal {
  if (!header) {
    if (repo && !repo.isPrivate && !repo.denyGit && !write) return {}
    return { status: 401, message: 'Authentication required' }
  }
  const identity = authenticateGit(header, state.registry)
  if ('status' in identity) return identity
  if (!repo) return { status: 404, message: 'Repository not found' }
  return authorizeGit(identity, repo, write) ?? { identity }
}

const REALM = { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' }

export function handleGit(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  target: GitTarget,
  body: Buffer
): void {
  const method = req.method ?? 'GET'
  const entry = {
    method,
    path: `${url.pathname}${url.search}`,
    service: target.service,
    repository: `${target.workspace}/${target.slug}`,
    ...(target.service === 'upload-pack' && method === 'POST'
      ? { command: uploadPackCommand(body, req.headers['content-encoding']) }
      : {}),
    ...(target.service === 'lfs-batch' ? { oids: lfsBatch(body).oids } : {}),
    authorization: Boolean(req.headers.authorization)
  }
  if (takeGitFault(state, req, res, entry)) return
  const finish = (status: number, responseBytes: number, cached?: boolean) => {
    state.gitRequests.push({ ...entry, status, responseBytes, ...(cached ? { cached } : {}) })
  }
  const found = findRepo(state, target.workspace, target.slug)
  const repo = found?.scm === 'git' ? found : undefined
  const lfs = target.service === 'lfs-batch' || target.service === 'lfs-locks'
  const write =
    target.service === 'receive-pack' ||
    (target.service === 'info-refs' && url.searchParams.get('service') === 'git-receive-pack') ||
    (target.service === 'lfs-batch' && lfsBatch(body).operation === 'upload') ||
    (target.service === 'lfs-locks' && method === 'POST')
  const admitted = admit(state, req.headers.authorization, repo, write)
  if ('status' in admitted) {
    if (lfs) return finish(...lfsRefusal(res, admitted))
    const text = `${admitted.message}\n`
    res
      .writeHead(admitted.status, {
        'Content-Type': 'text/plain; charset=utf-8',
        ...(admitted.status === 401 ? REALM : {})
      })
      .end(text)
    return finish(admitted.status, Buffer.byteLength(text))
  }
  if (lfs) return handleLfsApi(state, req, res, target, repo!, admitted.identity, body, finish)
  const expected = target.service === 'info-refs' ? 'GET' : 'POST'
  const service = url.searchParams.get('service')
  const refusal: Refusal | undefined =
    method !== expected
      ? { status: 405, message: 'Method not allowed' }
      : target.service === 'info-refs' && service !== 'git-upload-pack' && !write
        ? { status: 403, message: 'Only the smart HTTP protocol is supported' }
        : undefined
  if (refusal) {
    res.writeHead(refusal.status, { 'Content-Type': 'text/plain' }).end(`${refusal.message}\n`)
    return finish(refusal.status, Buffer.byteLength(refusal.message) + 1)
  }
  const pushed = (status: number, bytes: number) => {
    if (status === 200) settleHead(state, repo!)
    finish(status, bytes)
  }
  const push = target.service === 'receive-pack'
  if (target.service !== 'info-refs' || write) {
    return runBackend(state, req, res, url, body, admitted.identity, push ? pushed : finish)
  }
  const protocol = req.headers['git-protocol'] as string | undefined
  void state.refCache.lookup(gitDirOf(state, repo!), protocol).then(cached => {
    if (!cached?.hit)
      return runBackend(state, req, res, url, body, admitted.identity, finish, cached)
    res.writeHead(cached.hit.status, cached.hit.headers).end(cached.hit.body)
    finish(cached.hit.status, cached.hit.body.length, true)
  })
}

/** An LFS batch request's `operation` (an upload needs the write scope) and the object ids it names. */
function lfsBatch(body: Buffer): { operation?: unknown; oids: string[] } {
  try {
    const request = JSON.parse(body.toString('utf8')) as {
      operation?: unknown
      objects?: { oid?: unknown }[]
    }
    const objects = Array.isArray(request.objects) ? request.objects : []
    return { operation: request.operation, oids: objects.map(object => String(object?.oid)) }
  } catch {
    return { oids: [] }
  }
}

/** Runs `git http-backend` for one request: the body on stdin, CGI headers parsed, the rest streamed. */
export function runBackend(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  body: Buffer,
  identity: GitIdentity | undefined,
  finish: (status: number, bytes: number) => void,
  /** Where a ref advertisement is kept for the next request while the refs stay as they are. */
  cache?: { store(answer: CachedAnswer): void }
): void {
  const optional: Record<string, string | undefined> = {
    CONTENT_TYPE: req.headers['content-type'],
    HTTP_CONTENT_ENCODING: req.headers['content-encoding'],
    GIT_PROTOCOL: req.headers['git-protocol'] as string | undefined,
    REMOTE_USER: identity?.user,
    CONTENT_LENGTH: req.method === 'POST' ? String(body.length) : undefined
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: state.home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: state.root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: req.method ?? 'GET',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1'
  }
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) env[key] = value
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  state.children.add(child)
  const kept: Buffer[] = []
  const relay = relayCgi(child, res, chunk => cache && kept.push(chunk))
  child.stdin.on('error', () => undefined)
  child.stdin.end(body)
  child.on('close', () => {
    state.children.delete(child)
    if (!relay.started) {
      const text = `git http-backend failed: ${relay.stderr.trim()}\n`
      finish(500, Buffer.byteLength(text))
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end(text)
      return
    }
    if (cache && relay.status === 200 && child.exitCode === 0) {
      cache.store({ status: relay.status, headers: relay.headers, body: Buffer.concat(kept) })
    }
    finish(relay.status, relay.bytes)
    res.end()
  })
}
