// A repository of the local Bitbucket: its settings in memory, its git data in a bare repository whose
// HEAD is the main branch, as Bitbucket keeps it.
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { findRepo, gitDirOf, type Repo, type RepositoryOptions, type State } from './types.js'

/** Copies the `git init --bare` template into place and lists the repository in its workspace. */
export function createRepo(
  state: State,
  workspace: string,
  slug: string,
  opts: RepositoryOptions = {}
): Repo {
  const ws = state.workspaces.get(workspace)
  if (!ws) throw new Error(`local Bitbucket: no workspace ${workspace}`)
  if (findRepo(state, workspace, slug))
    throw new Error(`local Bitbucket: ${workspace}/${slug} exists`)
  const repo: Repo = {
    workspace,
    slug,
    uuid: `{${randomUUID()}}`,
    projectKey: opts.projectKey ?? 'PROJ',
    isPrivate: opts.isPrivate ?? true,
    description: opts.description ?? `The ${slug} repository`,
    scm: opts.scm ?? 'git',
    empty: opts.empty ?? false,
    denyGit: opts.denyGit ?? false
  }
  fs.cpSync(state.template, gitDirOf(state, repo), { recursive: true })
  ws.repos.push(repo)
  return repo
}

/** The branch HEAD names (`ref: refs/heads/<name>`), or undefined for a detached HEAD. */
export function headBranch(gitDir: string): string | undefined {
  try {
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim()
    return /^ref: refs\/heads\/(.+)$/.exec(head)?.[1]
  } catch {
    return undefined
  }
}

function packedRefs(gitDir: string): string {
  try {
    return fs.readFileSync(path.join(gitDir, 'packed-refs'), 'utf8')
  } catch {
    return ''
  }
}

/** Read from the files (no git spawn): listings ask this for up to 100 repositories a page. */
export function branchExists(gitDir: string, name: string): boolean {
  // Plain ASCII ref names only: never a path out of refs/heads.
  if (!/^[\w./+@-]+$/.test(name) || /\.\.|\/\/|^[/.]|[/.]$|\.lock$|@\{/.test(name)) return false
  try {
    if (fs.statSync(path.join(gitDir, 'refs', 'heads', name)).isFile()) return true
  } catch {
    // not a loose ref; look in packed-refs
  }
  return packedRefs(gitDir)
    .split('\n')
    .some(line => line.endsWith(` refs/heads/${name}`) && /^[0-9a-f]{40} /.test(line))
}

/**
 * The main branch as the REST API reports it: HEAD's branch once it exists; null for a repository
 * without commits (declared `empty`, or created through the API and not pushed to yet). A fixture
 * repository that was never pushed to but is not declared empty keeps claiming HEAD's branch, as the
 * listing always did.
 */
export function mainBranchOf(state: State, repo: Repo): string | null {
  const gitDir = gitDirOf(state, repo)
  const head = headBranch(gitDir)
  if (head && branchExists(gitDir, head)) return head
  if (repo.empty) return null
  return head ?? 'main'
}

/** Points the bare repository's HEAD at a branch, as setting the main branch does on Bitbucket. */
export function pointHead(state: State, repo: Repo, branch: string): void {
  fs.writeFileSync(path.join(gitDirOf(state, repo), 'HEAD'), `ref: refs/heads/${branch}\n`)
}

/** Branch names, loose and packed, in git's order. */
export function branches(gitDir: string): string[] {
  const names = new Set<string>()
  const walk = (dir: string, prefix: string) => {
    let entries: fs.Dirent[]
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${prefix}${entry.name}/`)
      else if (entry.isFile() && !entry.name.endsWith('.lock')) names.add(`${prefix}${entry.name}`)
    }
  }
  walk(path.join(gitDir, 'refs', 'heads'), '')
  for (const line of packedRefs(gitDir).split('\n')) {
    const match = /^[0-9a-f]{40} refs\/heads\/(.+)$/.exec(line)
    if (match) names.add(match[1])
  }
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * After a push: when HEAD names a branch that does not exist (the first push to a new repository
 * brought other branches), HEAD moves to the first branch, so clones check out something and the
 * API reports a main branch. Bitbucket's exact choice is not documented. Synchronous, so the push's
 * answer leaves only once the main branch is settled.
 */
export function settleHead(state: State, repo: Repo): void {
  const gitDir = gitDirOf(state, repo)
  const head = headBranch(gitDir)
  if (head && branchExists(gitDir, head)) return
  const [first] = branches(gitDir)
  if (first) pointHead(state, repo, first)
}
