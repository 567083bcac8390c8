// The Git LFS API of the local GitHub on the git origin: the batch API handing out signed storage
// URLs (with a verify action back on this origin), verify, and the locks endpoints git-lfs probes.
import type * as http from 'node:http'
import { permissionsOf, REQUIRES_AUTH, type Caller } from './auth.js'
import type { Finish, GitTarget } from './git-http.js'
import { parseJsonObject, readBody, sendJson } from './server.js'
import { EXPIRES_IN, signedHref, storedSize } from './storage.js'
import { findRepo, fullName, type Repo, type State } from './types.js'

const LFS_TYPE = 'application/vnd.git-lfs+json'
const OID = /^[0-9a-f]{64}$/
const DOCS = 'https://docs.github.com'
const CHALLENGE = {
  'LFS-Authenticate': 'Basic realm="GitHub"',
  'WWW-Authenticate': 'Basic realm="GitHub"'
}

type Answer = [status: number, value: unknown, headers?: Record<string, string>]

const lfsError = (status: number, message: string, headers?: Record<string, string>): Answer => [
  status,
  { message, documentation_url: DOCS },
  headers
]

export function handleLfs(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: GitTarget,
  caller: Caller,
  finish: Finish
): void {
  readBody(req, 16 * 1024 * 1024).then(
    body => {
      const [status, value, headers] = answerLfs(state, req.method ?? 'GET', target, caller, body)
      finish(sendJson(res, status, value, headers, LFS_TYPE), body.length)
    },
    () => finish(sendJson(res, 413, { message: 'Request too large' }, {}, LFS_TYPE), 0)
  )
}

function answerLfs(
  state: State,
  method: string,
  target: GitTarget,
  caller: Caller,
  body: Buffer
): Answer {
  if ('status' in caller) return lfsError(401, 'Bad credentials', CHALLENGE)
  const token = caller.token
  const repo = findRepo(state, target.owner, target.name)
  const permissions = repo && permissionsOf(token, repo)
  if (!token && !permissions?.pull) return lfsError(401, REQUIRES_AUTH, CHALLENGE)
  if (!repo || !permissions?.pull) return lfsError(404, 'Repository not found')
  const denied = lfsError(403, `Permission to ${fullName(repo)}.git denied to ${token?.login}.`)
  const request = parseJsonObject(body)
  if (target.service === 'lfs-locks') {
    if (method === 'GET' && target.subpath === 'info/lfs/locks') return [200, { locks: [] }]
    if (method === 'POST' && target.subpath === 'info/lfs/locks/verify')
      return permissions.push ? [200, { ours: [], theirs: [] }] : denied
    return lfsError(404, 'Not Found')
  }
  if (method !== 'POST') return lfsError(404, 'Not Found')
  if (!request) return lfsError(422, 'Invalid JSON')
  if (target.service === 'lfs-verify') {
    if (!permissions.push) return denied
    const stored =
      typeof request.oid === 'string' ? storedSize(state, repo, request.oid) : undefined
    if (stored === undefined) return lfsError(404, 'Object does not exist')
    if (stored !== request.size) return lfsError(422, 'Object size does not match')
    return [200, {}]
  }
  const { operation, objects } = request
  if ((operation !== 'upload' && operation !== 'download') || !Array.isArray(objects))
    return lfsError(422, 'Invalid batch request')
  if (Array.isArray(request.transfers) && !request.transfers.includes('basic'))
    return lfsError(422, 'Only the basic transfer adapter is supported')
  if (operation === 'upload' && !permissions.push) return denied
  return [
    200,
    {
      transfer: 'basic',
      objects: objects.map(object => describe(state, repo, operation, object)),
      hash_algo: 'sha256'
    }
  ]
}

/** One object of a batch answer: its actions, nothing for an upload already stored, or an error. */
function describe(state: State, repo: Repo, operation: string, object: unknown): object {
  const { oid, size } = (object ?? {}) as { oid?: unknown; size?: unknown }
  if (typeof oid !== 'string' || !OID.test(oid) || !Number.isSafeInteger(size) || Number(size) < 0)
    return { oid, size, error: { code: 422, message: 'Invalid object' } }
  const bytes = Number(size)
  const stored = storedSize(state, repo, oid)
  if (operation === 'download') {
    if (stored === undefined)
      return { oid, size, error: { code: 404, message: 'Object does not exist' } }
    const href = signedHref(state, 'download', repo, oid, stored)
    return {
      oid,
      size: stored,
      actions: { download: { href, header: {}, expires_in: EXPIRES_IN } }
    }
  }
  if (stored === bytes) return { oid, size }
  return {
    oid,
    size,
    actions: {
      upload: {
        href: signedHref(state, 'upload', repo, oid, bytes),
        header: { 'Content-Type': 'application/octet-stream' },
        expires_in: EXPIRES_IN
      },
      verify: {
        href: `${state.origin}/${fullName(repo)}.git/info/lfs/objects/verify`,
        expires_in: EXPIRES_IN
      }
    }
  }
}
