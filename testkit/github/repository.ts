// Repositories of the local GitHub: GitHub's name rules, a bare repository configured the way GitHub's
// receive side behaves, the default branch kept in HEAD, and the view tests read.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { branches, branchExists, headBranch } from '../bitbucket/repository.js'
import { installPreReceiveHook } from './hooks.js'
import {
  findRepo,
  gitDirOf,
  lfsDirOf,
  repoKey,
  type Account,
  type GitHubRepoView,
  type Repo,
  type State,
  type Visibility
} from './types.js'

export { branchExists }

export interface RepoSettings {
  visibility: Visibility
  description: string | null
  homepage: string | null
  hasIssues: boolean
  hasWiki: boolean
  hasProjects: boolean
}

/**
 * GitHub's treatment of a requested name: runs of characters outside `[A-Za-z0-9._-]` become one
 * `-` and a trailing `.git` is dropped (the API creates the fixed-up name rather than refusing);
 * empty, `.`, `..` and names over 100 characters are refused.
 */
export function normalizeRepoName(raw: string): { name: string } | { error: string } {
  const name = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.git$/i, '')
  if (name.length === 0) return { error: 'name is missing' }
  if (name === '.' || name === '..') return { error: `The repository ${name} is reserved.` }
  if (name.length > 100) return { error: 'name is too long (maximum is 100 characters)' }
  return { name }
}

/** Git environment for the stand-in's own git calls: no user or system configuration. */
export const gitEnv = (state: Pick<State, 'home'>): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: state.home,
  GIT_CONFIG_NOSYSTEM: '1'
})

/** One `git init --bare` without sample hooks, copied for every repository. */
export function createTemplate(state: Pick<State, 'root' | 'home'>): string {
  const template = path.join(state.root, '.template.git')
  const empty = path.join(state.root, '.no-templates')
  fs.mkdirSync(empty, { recursive: true })
  execFileSync('git', ['init', '-q', '--bare', `--template=${empty}`, '-b', 'main', template], {
    env: gitEnv(state)
  })
  return template
}

/**
 * The receive side as GitHub runs it: pushes over HTTP, objects checked, refs/pull/* hidden (so
 * updating one is "deny updating a hidden ref"), the default branch not deletable, and the push size
 * limit as receive.maxInputSize.
 */
function serverConfig(state: State): string {
  const maxInput = state.limits.maxPushBytes
  return [
    '[http]',
    '\treceivepack = true',
    '[receive]',
    '\tfsckObjects = true',
    '\thideRefs = refs/pull',
    '\tdenyDeleteCurrent = refuse',
    ...(maxInput ? [`\tmaxInputSize = ${Math.floor(maxInput)}`] : []),
    '[uploadpack]',
    '\tallowFilter = true',
    '[gc]',
    '\tauto = 0',
    ''
  ].join('\n')
}

export function createRepo(
  state: State,
  owner: Account,
  name: string,
  settings: RepoSettings,
  createdViaApi: boolean
): Repo {
  if (findRepo(state, owner.login, name))
    throw new Error(`local GitHub: ${owner.login}/${name} exists`)
  const now = new Date().toISOString()
  const repo: Repo = {
    id: state.nextId++,
    owner: owner.login,
    name,
    ...settings,
    createdViaApi,
    createdAt: now,
    pushedAt: null
  }
  const gitDir = gitDirOf(state, repo)
  fs.mkdirSync(path.dirname(gitDir), { recursive: true })
  fs.cpSync(state.template, gitDir, { recursive: true })
  fs.appendFileSync(path.join(gitDir, 'config'), serverConfig(state))
  installPreReceiveHook(gitDir, {
    limits: state.limits,
    rulesUrl: `${state.origin}/${owner.login}/${name}/rules`,
    lfsDir: state.requireLfsObjects ? lfsDirOf(state, repo) : undefined
  })
  state.repos.set(repoKey(owner.login, name), repo)
  return repo
}

/** Copies every ref of a bare repository on disk in, and takes its HEAD when that branch came along. */
export function importRefs(state: State, repo: Repo, fromGitDir: string): void {
  const gitDir = gitDirOf(state, repo)
  execFileSync('git', ['fetch', '-q', '--no-write-fetch-head', fromGitDir, '+refs/*:refs/*'], {
    cwd: gitDir,
    env: gitEnv(state)
  })
  const head = headBranch(fromGitDir)
  if (head && branchExists(gitDir, head)) pointHead(gitDir, head)
  else settleHead(gitDir, [])
}

export function pointHead(gitDir: string, branch: string): void {
  fs.writeFileSync(path.join(gitDir, 'HEAD'), `ref: refs/heads/${branch}\n`)
}

/**
 * After a push: when HEAD names a branch that does not exist (the first push into a new repository),
 * HEAD moves to the first branch that push created, else the first branch by name, as GitHub makes
 * the first pushed branch the default.
 */
export function settleHead(gitDir: string, pushedRefs: string[]): void {
  const head = headBranch(gitDir)
  if (head && branchExists(gitDir, head)) return
  const pushed = pushedRefs
    .filter(ref => ref.startsWith('refs/heads/'))
    .map(ref => ref.slice('refs/heads/'.length))
    .find(branch => branchExists(gitDir, branch))
  const first = pushed ?? branches(gitDir)[0]
  if (first) pointHead(gitDir, first)
}

export const defaultBranchOf = (state: State, repo: Repo): string =>
  headBranch(gitDirOf(state, repo)) ?? 'main'

/** No refs at all: what GitHub calls an empty repository. */
export function isEmpty(state: State, repo: Repo): boolean {
  const out = execFileSync('git', ['for-each-ref', '--count=1', '--format=%(refname)'], {
    cwd: gitDirOf(state, repo),
    env: gitEnv(state)
  })
  return out.length === 0
}

/** The repository's size as the API reports it: kilobytes of objects on disk, 0 when empty. */
export function sizeInKb(state: State, repo: Repo): number {
  let bytes = 0
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.isFile()) bytes += fs.statSync(file).size
    }
  }
  walk(path.join(gitDirOf(state, repo), 'objects'))
  return Math.round(bytes / 1024)
}

export function viewOf(state: State, repo: Repo): GitHubRepoView {
  return {
    owner: repo.owner,
    name: repo.name,
    private: repo.visibility !== 'public',
    visibility: repo.visibility,
    description: repo.description,
    homepage: repo.homepage,
    defaultBranch: defaultBranchOf(state, repo),
    hasIssues: repo.hasIssues,
    hasWiki: repo.hasWiki,
    hasProjects: repo.hasProjects,
    gitDir: gitDirOf(state, repo),
    createdViaApi: repo.createdViaApi
  }
}
