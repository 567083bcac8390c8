// A restore's GitHub source: the mirror repositories the github target made in one owner. Each is
// mirror-cloned with all its LFS objects into a backup folder, then restored like a backup directory.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import type { Git } from '../git/git.js'
import { createGitHubApi, type GitHubRepository } from '../github/api.js'
import { githubGitFor } from '../github/git.js'
import type { UnavailableRepository } from './artifact-source.js'
import { firstLineOf } from '../shared/errors.js'
import { coded } from '../shared/codes.js'

export interface GitHubSourceOptions {
  /** The owner (organization or user) that holds the mirrors. */
  owner: string
  apiUrl: string
  token: string
  select(slug: string): boolean
  /** Where the mirrors are cloned: `<dir>/<workspace>/<slug>.git`, as a backup directory. */
  dir: string
  log(line: string): void
}

export interface MirrorOrigin {
  workspace: string
  slug: string
  description: string
}

/**
 * The Bitbucket repository a GitHub mirror was made from, or undefined for a repository this action
 * did not make: its homepage is the Bitbucket repository and its description starts `Mirror of <it>`.
 */
export function mirrorOrigin(repository: GitHubRepository): MirrorOrigin | undefined {
  const homepage = repository.homepage ?? ''
  const description = repository.description ?? ''
  if (!homepage || !description.startsWith(`Mirror of ${homepage}`)) return undefined
  let parts: string[]
  try {
    parts = new URL(homepage).pathname.split('/').filter(Boolean).map(decodeURIComponent)
  } catch {
    return undefined
  }
  if (parts.length !== 2) return undefined
  return {
    workspace: parts[0],
    slug: parts[1],
    description: description.slice(`Mirror of ${homepage}`.length).replace(/^: /, '')
  }
}

async function cloneMirror(
  git: Git,
  repository: GitHubRepository,
  origin: MirrorOrigin,
  dir: string
): Promise<void> {
  const gitDir = path.join(dir, origin.workspace, `${origin.slug}.git`)
  // Built beside its place and renamed in once complete: a half-cloned mirror is never restored.
  const partial = `${gitDir}.partial`
  await fs.mkdir(path.dirname(gitDir), { recursive: true })
  try {
    await git.run(['clone', '--mirror', '--quiet', '--', repository.cloneUrl, partial])
    const refs = await git.run(['for-each-ref', '--count=1', '--format=%(refname)'], {
      cwd: partial
    })
    if (refs.trim()) await git.run(['lfs', 'fetch', '--all', 'origin'], { cwd: partial })
    await writeFacts(dir, repository, origin, refs.trim() !== '')
    await fs.rename(partial, gitDir)
  } finally {
    await fs.rm(partial, { recursive: true, force: true })
  }
}

async function writeFacts(
  dir: string,
  repository: GitHubRepository,
  origin: MirrorOrigin,
  hasRefs: boolean
): Promise<void> {
  // The facts a Bitbucket destination recreates the repository with, where findBackups reads them.
  const facts = {
    workspace: { slug: origin.workspace },
    description: origin.description,
    mainbranch: hasRefs ? { name: repository.defaultBranch } : null
  }
  await fs.writeFile(path.join(dir, origin.workspace, `${origin.slug}.json`), JSON.stringify(facts))
}

/**
 * Clones every selected mirror of the owner into `options.dir`. A mirror that cannot be cloned is
 * returned as unavailable; the others go on.
 */
export async function cloneGitHubMirrors(
  options: GitHubSourceOptions
): Promise<{ unavailable: UnavailableRepository[] }> {
  const api = createGitHubApi({ apiUrl: options.apiUrl, token: options.token, log: options.log })
  const owner = await api.owner(options.owner)
  if (!owner)
    throw new Error(
      coded('GH004', `GitHub owner "${options.owner}" was not found on ${options.apiUrl}`)
    )
  const ownLogin = owner.type === 'User' ? await api.authenticatedLogin() : undefined
  const mirrors = (await api.listRepositories(owner, ownLogin)).flatMap(repository => {
    const origin = mirrorOrigin(repository)
    return origin && options.select(origin.slug) ? [{ repository, origin }] : []
  })
  const gitFor = githubGitFor(options.token)
  const limit = pLimit(4)
  const unavailable: UnavailableRepository[] = []
  await Promise.all(
    mirrors.map(({ repository, origin }) =>
      limit(async () => {
        const name = `${origin.workspace}/${origin.slug}`
        try {
          await cloneMirror(gitFor(repository.cloneUrl), repository, origin, options.dir)
          options.log(`Cloned ${repository.fullName} (${name}).`)
        } catch (error) {
          const detail = coded(
            'RS007',
            `mirror ${repository.fullName} could not be cloned: ${firstLineOf(error)}`
          )
          options.log(`${name}: ${detail}`)
          unavailable.push({ repository: name, detail })
        }
      })
    )
  )
  return { unavailable }
}
