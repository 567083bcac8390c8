// Git smart HTTP for the local GitHub: GitHub's answers for credentials and permissions in front of the
// real `git http-backend`, request bodies streamed into it (a push is never held in memory), and each
// push logged from what receive-pack reported.
import { spawn } from 'node:child_process'
import type * as http from 'node:http'
import * as zlib from 'node:zlib'
import { relayCgi } from '../cgi.js'
import { authenticateGit, permissionsOf } from './auth.js'
import { handleLfs } from './lfs.js'
import { PushCommandReader, ReceivePackReport } from './pkt-line.js'
import { settleHead } from './repository.js'
import { sendText } from './server.js'
import { findRepo, fullName, gitDirOf, type Repo, type State, type Token } from './types.js'

export interface GitTarget {
  owner: string
  name: string
  /** The path below `<name>.git/`, e.g. `info/refs` or `info/lfs/objects/batch`. */
  subpath: string
  service: string
}

const GIT_PATH =
  /^\/([^/]+)\/([^/]+)\.git\/(info\/refs|git-upload-pack|git-receive-pack|info\/lfs\/objects\/batch|info\/lfs\/objects\/verify|info\/lfs\/locks(?:\/verify)?)$/
const SERVICES: Record<string, string> = {
  'info/refs': 'info-refs',
  'git-upload-pack': 'upload-pack',
  'git-receive-pack': 'receive-pack',
  'info/lfs/objects/batch': 'lfs-batch',
  'info/lfs/objects/verify': 'lfs-verify'
}

export function parseGitPath(pathname: string): GitTarget | undefined {
  const match = GIT_PATH.exec(pathname)
  if (!match) return undefined
  try {
    const [owner, name] = [decodeURIComponent(match[1]), decodeURIComponent(match[2])]
    return { owner, name, subpath: match[3], service: SERVICES[match[3]] ?? 'lfs-locks' }
  } catch {
    return undefined
  }
}

export const REALM = { 'WWW-Authenticate': 'Basic realm="GitHub"' }

export type Finish = (status: number, requestBytes: number) => void

export function handleGit(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  target: GitTarget
): void {
  const method = req.method ?? 'GET'
  const found = findRepo(state, target.owner, target.name)
  const finish: Finish = (status, requestBytes) =>
    void state.gitRequests.push({
      method,
      path: `${url.pathname}${url.search}`,
      service: target.service,
      repository: found ? fullName(found) : `${target.owner}/${target.name}`,
      status,
      authorization: Boolean(req.headers.authorization),
      requestBytes
    })
  const caller = authenticateGit(state, req.headers.authorization)
  if (target.service.startsWith('lfs-')) return handleLfs(state, req, res, target, caller, finish)
  const refuse = (status: number, text: string, headers: Record<string, string> = {}) => {
    req.resume()
    finish(sendText(res, status, text, headers), 0)
  }
  if ('status' in caller) return refuse(401, `${caller.message}\n`, REALM)
  const token = caller.token
  const write =
    target.service === 'receive-pack' || url.searchParams.get('service') === 'git-receive-pack'
  const permissions = found && permissionsOf(token, found)
  // Anonymous callers are asked for credentials rather than told whether a repository exists.
  if (!token && (write || !permissions?.pull)) return refuse(401, '', REALM)
  if (!found || !permissions?.pull) return refuse(404, 'Repository not found.\n')
  if (write && !permissions.push)
    return refuse(403, `Permission to ${fullName(found)}.git denied to ${token!.login}.\n`)
  const expected = target.service === 'info-refs' ? 'GET' : 'POST'
  if (method !== expected) return refuse(405, 'Method not allowed\n')
  runBackend(state, req, res, url, target, found, token, finish)
}

/** Runs `git http-backend` for one request: the body streamed to its stdin, its answer streamed back. */
function runBackend(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  target: GitTarget,
  repo: Repo,
  token: Token | undefined,
  finish: Finish
): void {
  const optional: Record<string, string | undefined> = {
    CONTENT_TYPE: req.headers['content-type'],
    // Only a request with a length (a small one) gets CONTENT_LENGTH: http-backend buffers those
    // whole, while a chunked body flows straight into receive-pack.
    CONTENT_LENGTH: req.headers['content-length'],
    HTTP_CONTENT_ENCODING: req.headers['content-encoding'],
    GIT_PROTOCOL: req.headers['git-protocol'] as string | undefined,
    REMOTE_USER: token?.login
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: state.home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: state.reposRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${repo.owner}/${repo.name}.git/${target.subpath}`,
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: req.method ?? 'GET',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1'
  }
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) env[key] = value
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  state.children.add(child)

  const push = target.service === 'receive-pack'
  const commands = new PushCommandReader()
  const gunzip = push && /gzip/i.test(env.HTTP_CONTENT_ENCODING ?? '') ? zlib.createGunzip() : null
  gunzip?.on('data', (chunk: Buffer) => commands.feed(chunk))
  gunzip?.on('error', () => (commands.done = true))
  let requestBytes = 0
  req.on('data', (chunk: Buffer) => {
    requestBytes += chunk.length
    if (!push || commands.done) return
    if (gunzip) gunzip.write(chunk)
    else commands.feed(chunk)
  })
  const requestDone = new Promise<void>(resolve => {
    req.on('end', resolve)
    req.on('close', resolve)
  })
  req.pipe(child.stdin)
  // receive-pack may stop reading early (a pack over receive.maxInputSize): drain the rest unread.
  child.stdin.on('error', () => {
    req.unpipe(child.stdin)
    req.resume()
  })

  let report: ReceivePackReport | undefined
  const relay = relayCgi(child, res, chunk => {
    if (!push) return
    report ??= new ReceivePackReport(commands.capabilities.some(c => c.startsWith('side-band')))
    report.feed(chunk)
  })
  const childDone = new Promise<number | null>(resolve => child.on('close', resolve))
  void Promise.all([childDone, requestDone]).then(([code]) => {
    state.children.delete(child)
    gunzip?.destroy()
    if (push && commands.commands.length > 0)
      recordPush(state, repo, commands, report, code, relay.stderr, requestBytes)
    finish(relay.started ? relay.status : 500, requestBytes)
    if (relay.started) return void res.end()
    const text = `git http-backend failed: ${relay.stderr.trim()}\n`
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
    res.end(text)
  })
}

/** One entry in `pushes` per receive-pack request that carried commands (not git's auth probe). */
function recordPush(
  state: State,
  repo: Repo,
  commands: PushCommandReader,
  report: ReceivePackReport | undefined,
  code: number | null,
  stderr: string,
  requestBytes: number
): void {
  const reported = commands.capabilities.some(c => c.startsWith('report-status'))
  const accepted = reported ? Boolean(report?.accepted) : code === 0
  state.pushes.push({
    repository: fullName(repo),
    status: accepted ? 'accepted' : 'rejected',
    requestBytes,
    refUpdates: commands.commands.length,
    ...(accepted ? {} : { message: report?.message(stderr) || stderr.trim() || 'push failed' })
  })
  const updated = report ? report.refs.filter(r => r.ok).map(r => r.ref) : []
  if (accepted || updated.length > 0) {
    settleHead(
      gitDirOf(state, repo),
      commands.commands.map(c => c.ref)
    )
    repo.pushedAt = new Date().toISOString()
  }
}
