// A local Bitbucket Cloud REST API that answers as the real one does (REFERENCE.md): auth rules, paging,
// `fields`, the project `q` filter, removed endpoints, error bodies, rate-limit faults and a request log.
import { randomUUID } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { applyFields } from './fields.js'
import { authenticate, type Identity, type Registry } from './auth.js'

export type FaultKind = '429' | '429-retry-after' | '500' | '502-html' | 'reset'

export interface LocalBitbucket {
  apiUrl: string
  origin: string
  oauthTokenUrl: string
  addApiToken(t: { email: string; username: string; token: string; scopes?: string[] }): void
  addAccessToken(t: { token: string; workspace: string; scopes?: string[] }): void
  addOAuthConsumer(c: {
    clientId: string
    clientSecret: string
    tokenLifetimeSeconds?: number
  }): void
  addAppPassword(p: { username: string; password: string }): void
  createWorkspace(slug: string): void
  addRepository(
    workspace: string,
    slug: string,
    opts?: { projectKey?: string; isPrivate?: boolean; scm?: 'git' | 'hg'; empty?: boolean }
  ): { uuid: string }
  injectFaults(f: { kind: FaultKind; count: number; retryAfterSeconds?: number }): void
  requests: { method: string; path: string; status: number; authorization: boolean }[]
  clearRequests(): void
  close(): Promise<void>
}

interface Repo {
  workspace: string
  slug: string
  uuid: string
  projectKey: string
  isPrivate: boolean
  scm: string
  empty: boolean
}

const REMOVED = [
  /^\/2\.0\/repositories\/?$/,
  /^\/2\.0\/workspaces\/?$/,
  /^\/2\.0\/user\/permissions\/workspaces\/?$/
]
const time = '2026-11-01T10:00:00.123456+00:00'

function errorBody(message: string, detail?: unknown): string {
  return JSON.stringify({ type: 'error', error: { message, ...(detail ? { detail } : {}) } })
}

export async function startLocalBitbucket(
  options: { latencyMs?: number; nextDropsFields?: boolean } = {}
): Promise<LocalBitbucket> {
  const registry: Registry = {
    apiTokens: [],
    accessTokens: [],
    consumers: [],
    oauthTokens: new Map(),
    appPasswords: []
  }
  const workspaces = new Map<string, { uuid: string; repos: Repo[] }>()
  const faults: { kind: FaultKind; retryAfterSeconds?: number }[] = []
  const requests: LocalBitbucket['requests'] = []
  const sockets = new Set<Socket>()
  let origin = ''

  function repositoryObject(repo: Repo, identity: Identity) {
    const user = identity.kind === 'api-token' ? `${identity.username}@` : ''
    const base = `${origin}/2.0/repositories/${repo.workspace}/${repo.slug}`
    const ws = workspaces.get(repo.workspace)!
    return {
      type: 'repository',
      uuid: repo.uuid,
      full_name: `${repo.workspace}/${repo.slug}`,
      slug: repo.slug,
      name: repo.slug,
      scm: repo.scm,
      website: '',
      is_private: repo.isPrivate,
      description: `The ${repo.slug} repository`,
      fork_policy: 'no_public_forks',
      language: 'typescript',
      has_issues: false,
      has_wiki: false,
      size: repo.empty ? 0 : 1234,
      created_on: time,
      updated_on: time,
      mainbranch: repo.empty ? null : { type: 'branch', name: 'main' },
      project: {
        type: 'project',
        key: repo.projectKey,
        name: repo.projectKey,
        uuid: `{${randomUUID()}}`
      },
      workspace: { type: 'workspace', slug: repo.workspace, name: repo.workspace, uuid: ws.uuid },
      owner: {
        type: 'team',
        username: repo.workspace,
        display_name: repo.workspace,
        uuid: ws.uuid
      },
      links: {
        self: { href: base },
        html: { href: `${origin}/${repo.workspace}/${repo.slug}` },
        clone: [
          {
            name: 'https',
            href: `${origin.replace('://', `://${user}`)}/${repo.workspace}/${repo.slug}.git`
          },
          { name: 'ssh', href: `git@127.0.0.1:${repo.workspace}/${repo.slug}.git` }
        ]
      }
    }
  }

  /** `project.key = "A"` terms joined by OR/AND; anything else is a malformed query. */
  function projectFilter(q: string): Set<string> | undefined {
    const terms = q.split(/\s+(?:OR|AND)\s+/)
    const keys = new Set<string>()
    for (const term of terms) {
      const match = /^\(?\s*project\.key\s*=\s*"([^"]*)"\s*\)?$/.exec(term.trim())
      if (!match) return undefined
      keys.add(match[1])
    }
    return keys
  }

  function listRepositories(url: URL, workspace: string, identity: Identity): [number, string] {
    const ws = workspaces.get(workspace)
    if (!ws) return [404, errorBody(`No workspace with identifier '${workspace}'.`)]
    if (identity.kind === 'access-token' && identity.workspace !== workspace) {
      return [403, errorBody('This access token does not have access to this workspace.')]
    }
    let repos = ws.repos
    const q = url.searchParams.get('q')
    if (q) {
      const keys = projectFilter(q)
      if (!keys) return [400, errorBody('Invalid query')]
      repos = repos.filter(repo => keys.has(repo.projectKey))
    }
    const pagelen = Math.min(100, Math.max(1, Number(url.searchParams.get('pagelen') ?? 10) || 10))
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const values = repos
      .slice((page - 1) * pagelen, page * pagelen)
      .map(repo => repositoryObject(repo, identity))
    const body: Record<string, unknown> = { pagelen, size: repos.length, page, values }
    if (page * pagelen < repos.length) {
      const next = new URL(url.href)
      next.searchParams.set('page', String(page + 1))
      if (options.nextDropsFields) next.searchParams.delete('fields')
      body.next = next.href
    }
    const fields = url.searchParams.get('fields')
    return [200, JSON.stringify(fields ? applyFields(body, fields) : body)]
  }

  function route(
    req: http.IncomingMessage,
    url: URL,
    body: string
  ): [number, string, Record<string, string>?] {
    if (req.method === 'POST' && url.pathname === '/site/oauth2/access_token') {
      const consumer = registry.consumers.find(
        c =>
          req.headers.authorization ===
          `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`
      )
      if (!consumer || !/grant_type=client_credentials/.test(body)) {
        return [
          400,
          JSON.stringify({
            error: 'invalid_client',
            error_description: 'Invalid OAuth client credentials'
          })
        ]
      }
      const token = `oauth-${randomUUID()}`
      const lifetime = consumer.tokenLifetimeSeconds ?? 3600
      registry.oauthTokens.set(token, Date.now() + lifetime * 1000)
      const answer = {
        access_token: token,
        token_type: 'bearer',
        expires_in: lifetime,
        scopes: 'repository',
        refresh_token: randomUUID()
      }
      return [200, JSON.stringify(answer)]
    }
    if (REMOVED.some(pattern => pattern.test(url.pathname))) {
      return [410, errorBody('This API is no longer supported. See CHANGE-2770.')]
    }
    const auth = authenticate(req.headers.authorization, registry)
    if ('status' in auth)
      return [auth.status, auth.body, { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' }]
    const identity = auth
    if (identity.kind === 'api-token' && !identity.scopes.includes('read:repository:bitbucket')) {
      return [
        403,
        errorBody('Your credentials lack one or more required privilege scopes.', {
          granted: identity.scopes,
          required: ['read:repository:bitbucket']
        })
      ]
    }
    const listing = /^\/2\.0\/repositories\/([^/]+)\/?$/.exec(url.pathname)
    if (req.method === 'GET' && listing)
      return listRepositories(url, decodeURIComponent(listing[1]), identity)
    if (req.method === 'GET' && url.pathname === '/2.0/user/workspaces') {
      const values = [...workspaces.keys()]
        .filter(slug => identity.kind !== 'access-token' || identity.workspace === slug)
        .map(slug => ({
          type: 'workspace_access',
          workspace: { type: 'workspace', slug, uuid: workspaces.get(slug)!.uuid }
        }))
      return [200, JSON.stringify({ pagelen: 100, size: values.length, page: 1, values })]
    }
    return [404, errorBody(`Resource not found: ${url.pathname}`)]
  }

  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', chunk => (body += chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin)
      const log = (status: number) =>
        requests.push({
          method: req.method ?? 'GET',
          path: `${url.pathname}${url.search}`,
          status,
          authorization: Boolean(req.headers.authorization)
        })
      const fault = faults.shift()
      setTimeout(() => {
        if (fault?.kind === 'reset') {
          log(0)
          req.socket.destroy()
          return
        }
        if (fault) {
          const [status, type, text, headers] =
            fault.kind === '500'
              ? [500, 'application/json', errorBody('Something went wrong'), {}]
              : fault.kind === '502-html'
                ? [502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>', {}]
                : [
                    429,
                    'text/plain',
                    'Rate limit for this resource has been exceeded',
                    fault.kind === '429-retry-after'
                      ? { 'Retry-After': String(fault.retryAfterSeconds ?? 1) }
                      : {}
                  ]
          log(status)
          res.writeHead(status, { 'Content-Type': type, ...headers }).end(text)
          return
        }
        const [status, text, headers] = route(req, url, body)
        log(status)
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(text)
      }, options.latencyMs ?? 0)
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    apiUrl: `${origin}/2.0`,
    origin,
    oauthTokenUrl: `${origin}/site/oauth2/access_token`,
    addApiToken: t =>
      registry.apiTokens.push({
        scopes: ['read:repository:bitbucket', 'read:workspace:bitbucket'],
        ...t
      }),
    addAccessToken: t => registry.accessTokens.push({ scopes: ['repository'], ...t }),
    addOAuthConsumer: c => registry.consumers.push(c),
    addAppPassword: p => registry.appPasswords.push(p),
    createWorkspace: slug => void workspaces.set(slug, { uuid: `{${randomUUID()}}`, repos: [] }),
    addRepository(workspace, slug, opts = {}) {
      const uuid = `{${randomUUID()}}`
      workspaces.get(workspace)!.repos.push({
        workspace,
        slug,
        uuid,
        projectKey: opts.projectKey ?? 'PROJ',
        isPrivate: opts.isPrivate ?? true,
        scm: opts.scm ?? 'git',
        empty: opts.empty ?? false
      })
      return { uuid }
    },
    injectFaults: f => {
      for (let i = 0; i < f.count; i++)
        faults.push({ kind: f.kind, retryAfterSeconds: f.retryAfterSeconds })
    },
    requests,
    clearRequests: () => void requests.splice(0),
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
