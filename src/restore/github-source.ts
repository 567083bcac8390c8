// A restore's GitHub source: the mirror repositories the github target made in one owner. Each is
// mirror-cloned with all its LFS objects (and its metadata archive completed with the Downloads kept
// as release assets) into a backup folder, then restored like a backup directory.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import { snippetSlug } from '../bitbucket/snippets.js'
import type { Git } from '../git/git.js'
import { createGitHubApi, type GitHubRepository } from '../github/api.js'
import { githubGitFor } from '../github/git.js'
import type { UnavailableRepository } from './artifact-source.js'
import { dropReleaseTag, readDownloadsBack } from './github-downloads.js'
import { firstLineOf, messageOf } from '../shared/errors.js'
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
  const named = originOf(parts)
  if (!named) return undefined
  return {
    ...named,
    description: description.slice(`Mirror of ${homepage}`.length).replace(/^: /, '')
  }
}

/**
 * A repository's page is `/{workspace}/{slug}`; a snippet's is `/snippets/{workspace}/{id}` in the
 * API's links (or `/{workspace}/workspace/snippets/{id}` in the web UI): named by its snippet slug.
 */
function originOf(parts: string[]): { workspace: string; slug: string } | undefined {
  if (parts.length === 2) return { workspace: parts[0], slug: parts[1] }
  if (parts.length === 3 && parts[0] === 'snippets')
    return { workspace: parts[1], slug: snippetSlug(parts[2]) }
  if (parts.length === 4 && parts[1] === 'workspace' && parts[2] === 'snippets')
    return { workspace: parts[0], slug: snippetSlug(parts[3]) }
  return undefined
}

async function cloneMirror(
  git: Git,
  repository: GitHubRepository,
  origin: MirrorOrigin,
  dir: string,
  completeArchive: (gitDir: string) => Promise<void>
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
    await completeArchive(partial)
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
          const git = gitFor(repository.cloneUrl)
          // Downloads too big for a git file on GitHub come back from the mirror's release, and the
          // release's own tag stays out; a failure there is a line in the log, never the restore.
          const completeArchive = async (gitDir: string) => {
            const facts = { api, git, gitDir, fullName: repository.fullName, log: options.log }
            try {
              await dropReleaseTag(facts)
              await readDownloadsBack({ ...facts, scratch: `${gitDir}-downloads` })
            } catch (error) {
              options.log(
                `${name}: the release "Bitbucket Downloads" of ${repository.fullName} was not read: ${messageOf(error)}`
              )
            }
          }
          await cloneMirror(git, repository, origin, options.dir, completeArchive)
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
