// A local Bitbucket Cloud that answers as the real one does (REFERENCE.md): the REST API, git smart HTTP
// through the real `git http-backend`, Git LFS with a separate storage origin, faults and request logs;
// beyond git, pull requests (diffs on a diff host), Downloads (on an S3-like storage host), snippets
// (git repositories of their own) and settings.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { ADMIN_USER, type Registry } from './auth.js'
import { handleDiffHost } from './diff-host.js'
import { handleDownloadStorage } from './downloads.js'
import { handleGit, parseGitPath } from './git-http.js'
import { handleStorage, storeObject } from './lfs.js'
import { createMetadataAdmin } from './metadata-admin.js'
import { createMetadataState } from './metadata-state.js'
import type { MetadataOptions } from './metadata-types.js'
import { createRefAdvertisementCache } from './ref-cache.js'
import { createRepo, mainBranchOf } from './repository.js'
import { createRepositorySizes } from './repository-size.js'
import { createRest } from './rest.js'
import { handleSnippetGit, parseSnippetGitPath } from './snippet-git.js'
import { findRepo, gitDirOf, lfsDirOf, type LocalBitbucket, type State } from './types.js'

export type {
  AccountInfo,
  MetadataOptions,
  PullRequestInfo,
  StorageRequest
} from './metadata-types.js'
export type {
  FaultKind,
  GitFaultKind,
  GitRequest,
  GitService,
  LocalBitbucket,
  RepositoryInfo,
  RepositoryOptions
} from './types.js'

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: Buffer) => void

/** A server that reads each request body whole (as bytes), waits `latencyMs`, then hands it on. */
async function listen(
  sockets: Set<Socket>,
  latencyMs: number,
  handler: Handler
): Promise<{ server: http.Server; origin: string }> {
  let origin = ''
  const server = http.createServer((req, res) => {
    if (!server.listening) return void req.socket.destroy()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin)
      const body = Buffer.concat(chunks)
      setTimeout(() => {
        if (server.listening) handler(req, res, url, body)
        else req.socket.destroy()
      }, latencyMs)
    })
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { server, origin }
}

export async function startLocalBitbucket(
  options: {
    latencyMs?: number
    nextDropsFields?: boolean
    /** false: start git for every ref advertisement (see ref-cache.ts). */
    refAdvertisementCache?: boolean
    /** REST requests per rolling hour and credential; unset: counted, never refused (rate-limit.ts). */
    rateLimitPerHour?: number
  } & Partial<MetadataOptions> = {}
): Promise<LocalBitbucket> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-bitbucket-'))
  const home = path.join(root, '.home')
  fs.mkdirSync(home)
  const gitEnv = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1' }
  // One `git init --bare` (no sample hooks), copied for each repository: a spawn per repository
  // would cost seconds for the hundreds of repositories listing tests add.
  const template = path.join(root, '.template.git')
  execFileSync('git', ['init', '-q', '--bare', `--template=${home}`, '-b', 'main', template], {
    env: gitEnv
  })
  const adminSecret = randomBytes(18).toString('base64url')
  const registry: Registry = {
    apiTokens: [],
    accessTokens: [],
    consumers: [],
    oauthTokens: new Map(),
    appPasswords: [],
    adminAuthorization: `Basic ${Buffer.from(`${ADMIN_USER}:${adminSecret}`).toString('base64')}`
  }
  const state: State = {
    root,
    home,
    template,
    registry,
    workspaces: new Map(),
    origin: '',
    storageOrigin: '',
    requests: [],
    gitRequests: [],
    gitFaults: [],
    children: new Set(),
    refCache: createRefAdvertisementCache(options.refAdvertisementCache ?? true),
    sizes: createRepositorySizes(),
    signingKey: randomBytes(32),
    metadata: createMetadataState(options),
    diffOrigin: '',
    downloadsOrigin: '',
    storageRequests: []
  }
  const rest = createRest(state, options)
  const sockets = new Set<Socket>()
  const latency = options.latencyMs ?? 0
  const api = await listen(sockets, latency, (req, res, url, body) => {
    const target = parseGitPath(url.pathname)
    const snippet = parseSnippetGitPath(url.pathname)
    if (target) handleGit(state, req, res, url, target, body)
    else if (snippet) handleSnippetGit(state, req, res, url, snippet, body)
    else rest.handle(req, res, url, body)
  })
  const storage = await listen(sockets, latency, (req, res, url, body) =>
    handleStorage(state, req, res, url, body)
  )
  const diffHost = await listen(sockets, latency, (req, res, url) =>
    handleDiffHost(state, req, res, url)
  )
  const downloads = await listen(sockets, latency, (req, res, url) =>
    handleDownloadStorage(state, req, res, url)
  )
  state.origin = api.origin
  state.storageOrigin = storage.origin
  state.diffOrigin = diffHost.origin
  state.downloadsOrigin = downloads.origin

  const repoOrThrow = (workspace: string, slug: string) => {
    const repo = findRepo(state, workspace, slug)
    if (!repo) throw new Error(`local Bitbucket: no repository ${workspace}/${slug}`)
    return repo
  }

  return {
    ...createMetadataAdmin(state),
    downloadsOrigin: downloads.origin,
    diffOrigin: diffHost.origin,
    get rateLimitPerHour() {
      return rest.rateLimiter.perHour
    },
    set rateLimitPerHour(perHour: number | undefined) {
      rest.rateLimiter.perHour = perHour
    },
    apiUrl: `${api.origin}/2.0`,
    origin: api.origin,
    storageOrigin: storage.origin,
    oauthTokenUrl: `${api.origin}/site/oauth2/access_token`,
    root,
    adminAuthorization: registry.adminAuthorization,
    addApiToken: t =>
      registry.apiTokens.push({
        scopes: ['read:repository:bitbucket', 'read:workspace:bitbucket'],
        ...t
      }),
    addAccessToken: t => registry.accessTokens.push({ scopes: ['repository'], ...t }),
    addOAuthConsumer: c => registry.consumers.push(c),
    addAppPassword: p => registry.appPasswords.push(p),
    createWorkspace: slug => {
      if (!state.workspaces.has(slug))
        state.workspaces.set(slug, { uuid: `{${randomUUID()}}`, repos: [] })
    },
    addRepository(workspace, slug, opts = {}) {
      const repo = createRepo(state, workspace, slug, opts)
      return { uuid: repo.uuid, gitDir: gitDirOf(state, repo) }
    },
    renameRepository(workspace, oldSlug, newSlug) {
      const repo = repoOrThrow(workspace, oldSlug)
      if (findRepo(state, workspace, newSlug))
        throw new Error(`local Bitbucket: ${workspace}/${newSlug} exists`)
      const from = gitDirOf(state, repo)
      repo.slug = newSlug
      fs.renameSync(from, gitDirOf(state, repo))
    },
    removeRepository(workspace, slug) {
      const repo = repoOrThrow(workspace, slug)
      const repos = state.workspaces.get(workspace)!.repos
      repos.splice(repos.indexOf(repo), 1)
      fs.rmSync(gitDirOf(state, repo), { recursive: true, force: true })
      fs.rmSync(lfsDirOf(state, repo), { recursive: true, force: true })
    },
    repository(workspace, slug) {
      const repo = findRepo(state, workspace, slug)
      if (!repo) return undefined
      return {
        uuid: repo.uuid,
        gitDir: gitDirOf(state, repo),
        lfsDir: lfsDirOf(state, repo),
        isPrivate: repo.isPrivate,
        description: repo.description,
        projectKey: repo.projectKey,
        mainBranch: mainBranchOf(state, repo)
      }
    },
    removeLfsObject(workspace, slug, oid) {
      const file = path.join(lfsDirOf(state, repoOrThrow(workspace, slug)), oid)
      if (!/^[0-9a-f]{64}$/.test(oid) || !fs.existsSync(file))
        throw new Error(`local Bitbucket: ${workspace}/${slug} has no LFS object ${oid}`)
      fs.rmSync(file)
    },
    restoreLfsObject(workspace, slug, oid, content) {
      const repo = repoOrThrow(workspace, slug)
      if (createHash('sha256').update(content).digest('hex') !== oid)
        throw new Error(`local Bitbucket: the content given for LFS object ${oid} hashes otherwise`)
      storeObject(state, repo, oid, content)
    },
    setReportedSize(workspace, slug, bytes) {
      if (bytes !== undefined && !(Number.isSafeInteger(bytes) && bytes >= 0))
        throw new Error(`local Bitbucket: a size is a whole number of bytes (${bytes})`)
      repoOrThrow(workspace, slug).reportedSize = bytes
    },
    injectFaults: f => rest.injectFaults(f),
    injectGitFaults: f => {
      for (let i = 0; i < f.count; i++) state.gitFaults.push({ kind: f.kind, path: f.path })
    },
    requests: state.requests,
    clearRequests: () => void state.requests.splice(0),
    gitRequests: state.gitRequests,
    clearGitRequests: () => void state.gitRequests.splice(0),
    get refAdvertisementCache() {
      return state.refCache.enabled
    },
    set refAdvertisementCache(enabled: boolean) {
      state.refCache.enabled = enabled
    },
    close: async () => {
      for (const child of state.children) child.kill('SIGKILL')
      for (const socket of sockets) socket.destroy()
      await Promise.all(
        [api.server, storage.server, diffHost.server, downloads.server].map(
          server => new Promise<void>(resolve => server.close(() => resolve()))
        )
      )
      fs.rmSync(root, { recursive: true, force: true })
    }
  }
}
