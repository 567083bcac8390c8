// A local GitHub (github.com / GitHub Enterprise Server as the action sees it): the REST API under
// /api/v3, git smart HTTP through the real `git http-backend` with GitHub's push limits enforced by
// real git, Git LFS with a separate storage origin, and the Actions artifacts API over the results
// service. Everything it was asked is logged.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import type { Socket } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { handleGit, parseGitPath } from './git-http.js'
import { createRepo, createTemplate, importRefs, viewOf } from './repository.js'
import { handleReleaseFile, isReleaseFilePath } from './release-files.js'
import { handleRest } from './rest.js'
import { listen, sendJson } from './server.js'
import { handleStorage, objectPath } from './storage.js'
import {
  findAccount,
  findRepo,
  lfsDirOf,
  type Account,
  type LocalGitHub,
  type LocalGitHubOptions,
  type State
} from './types.js'

export type {
  ArtifactStore,
  GitHubRepoView,
  GitRequest,
  LfsUpload,
  LocalGitHub,
  LocalGitHubOptions,
  PushRecord,
  ReleaseView,
  RestRequest,
  StorageRequest,
  StoredArtifact,
  TokenKind,
  TokenSpec,
  Visibility
} from './types.js'

export async function startLocalGitHub(options: LocalGitHubOptions = {}): Promise<LocalGitHub> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-github-'))
  const home = path.join(root, '.home')
  fs.mkdirSync(home)
  const state: State = {
    root,
    home,
    reposRoot: path.join(root, 'repositories'),
    lfsRoot: path.join(root, 'lfs'),
    template: createTemplate({ root, home }),
    origin: '',
    apiUrl: '',
    storageOrigin: '',
    limits: { ...options.limits },
    requireLfsObjects: options.requireLfsObjects ?? true,
    artifacts: options.artifacts,
    accounts: new Map(),
    tokens: new Map(),
    repos: new Map(),
    nextId: 1000,
    signingKey: randomBytes(32),
    children: new Set(),
    requests: [],
    gitRequests: [],
    pushes: [],
    lfsUploads: [],
    storageRequests: [],
    releases: [],
    assets: []
  }
  fs.mkdirSync(state.reposRoot)
  const sockets = new Set<Socket>()
  const latency = options.latencyMs ?? 0
  const main = await listen(sockets, latency, (req, res, url) => {
    if (isReleaseFilePath(url.pathname)) return handleReleaseFile(state, req, res, url)
    const target = parseGitPath(url.pathname)
    if (target) return handleGit(state, req, res, url, target)
    const api = /^\/api\/v3(\/.*)?$/.exec(url.pathname)
    if (api) return void handleRest(state, req, res, url, api[1] ?? '/')
    req.resume()
    sendJson(res, 404, { message: 'Not Found' })
  })
  const storage = await listen(sockets, latency, (req, res, url) =>
    handleStorage(state, req, res, url)
  )
  state.origin = main.origin
  state.apiUrl = `${main.origin}/api/v3`
  state.storageOrigin = storage.origin

  const addAccount = (login: string, type: Account['type']) => {
    const existing = findAccount(state, login)
    if (existing && existing.type !== type)
      throw new Error(`local GitHub: ${login} is already a ${existing.type}`)
    if (!existing) state.accounts.set(login.toLowerCase(), { id: state.nextId++, login, type })
  }
  const repoOrThrow = (owner: string, name: string) => {
    const repo = findRepo(state, owner, name)
    if (!repo) throw new Error(`local GitHub: no repository ${owner}/${name}`)
    return repo
  }

  return {
    apiUrl: state.apiUrl,
    origin: state.origin,
    storageOrigin: state.storageOrigin,
    addOrganization: login => addAccount(login, 'Organization'),
    addUser: login => addAccount(login, 'User'),
    addToken(t) {
      if (t.kind === 'pat') addAccount(t.login, 'User')
      state.tokens.set(t.token, {
        token: t.token,
        login: t.login,
        kind: t.kind,
        canCreateIn: t.canCreateIn ?? [],
        canPushTo: t.canPushTo ?? [],
        canReadFrom: t.canReadFrom ?? [],
        cannotSee: t.cannotSee ?? []
      })
    },
    addRepository(owner, name, opts = {}) {
      const account = findAccount(state, owner)
      if (!account)
        throw new Error(`local GitHub: no account ${owner}; add it with addOrganization or addUser`)
      const repo = createRepo(
        state,
        account,
        name,
        {
          visibility: opts.private ? 'private' : 'public',
          description: opts.description ?? null,
          homepage: opts.homepage ?? null,
          hasIssues: true,
          hasWiki: true,
          hasProjects: true
        },
        false
      )
      if (opts.fromGitDir) {
        importRefs(state, repo, opts.fromGitDir)
        repo.pushedAt = repo.createdAt
      }
      return viewOf(state, repo)
    },
    repository(owner, name) {
      const repo = findRepo(state, owner, name)
      return repo && viewOf(state, repo)
    },
    repositories: () => [...state.repos.values()].map(repo => viewOf(state, repo)),
    lfsObjects(owner, name) {
      const dir = lfsDirOf(state, repoOrThrow(owner, name))
      if (!fs.existsSync(dir)) return []
      return fs
        .readdirSync(dir)
        .filter(file => /^[0-9a-f]{64}$/.test(file))
        .sort()
    },
    lfsObjectPath: (owner, name, oid) => objectPath(state, repoOrThrow(owner, name), oid),
    releases(owner, name) {
      const repo = repoOrThrow(owner, name)
      return state.releases
        .filter(release => release.repoId === repo.id)
        .map(({ id, tagName, name: title, body, draft }) => ({
          id,
          tagName,
          name: title,
          body,
          draft,
          assets: state.assets
            .filter(asset => asset.releaseId === id)
            .map(({ id, name, label, size, state, file }) => ({
              id,
              name,
              label,
              size,
              state,
              file
            }))
        }))
    },
    requests: state.requests,
    gitRequests: state.gitRequests,
    pushes: state.pushes,
    lfsUploads: state.lfsUploads,
    storageRequests: state.storageRequests,
    clear() {
      for (const log of [
        state.requests,
        state.gitRequests,
        state.pushes,
        state.lfsUploads,
        state.storageRequests
      ])
        log.splice(0)
    },
    async close() {
      for (const child of state.children) child.kill('SIGKILL')
      for (const socket of sockets) socket.destroy()
      await Promise.all(
        [main.server, storage.server].map(
          server => new Promise<void>(resolve => server.close(() => resolve()))
        )
      )
      fs.rmSync(root, { recursive: true, force: true })
    }
  }
}
