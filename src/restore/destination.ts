// Where a restore writes: any git URL or local path (a template), a Bitbucket workspace (missing
// repositories created with the original's project, privacy and description) or a GitHub owner.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { stripUser, type BitbucketClient } from '../bitbucket/client.js'
import { BitbucketError } from '../bitbucket/errors.js'
import { isSnippetSlug } from '../bitbucket/snippets.js'
import type { ApiRepository } from '../bitbucket/types.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { createGit, type Git, type GitAuth } from '../git/git.js'
import { githubGitFor } from '../github/git.js'
import { createGitHubApi, type GitHubOwner } from '../github/api.js'
import type { GitHubSettings } from '../settings/types.js'
import type { RepositoryApi } from './metadata/restore.js'
import type { RepositoryFacts } from './sources.js'
import { pathExists } from '../shared/fs.js'
import { coded, withoutCode } from '../shared/codes.js'
import { openNewSnippet } from './snippet-destination.js'

export interface OpenedDestination {
  /** A URL, or an absolute path for a local bare repository. */
  url: string
  /** How pushes name it in logs and errors: Bitbucket, GitHub, the host or the path. */
  name: string
  git: Git
  /** Set for local paths: LFS objects are copied there instead of pushed. */
  localPath?: string
  /** True when this restore created the repository just now: it is empty. */
  created?: boolean
  /** Runs after the push, with the branch HEAD should name (e.g. the main branch). */
  finish?(mainBranch: string | undefined): Promise<void>
  /** What the destination did differently from the original (told with the outcome). */
  note?: string
  /** Bitbucket: the repository's REST API, where its metadata is restored. */
  api?: RepositoryApi
}

export interface Destination {
  describe: string
  /** Local paths: LFS objects are copied in as files, never pushed by git-lfs. */
  readonly local?: boolean
  /** The repository a backup lands in, before anything is created: one at a time goes to each. */
  target(facts: RepositoryFacts): string
  /** What to grant when the server refuses a push of `facts` (HTTP 403): it can read but not write. */
  pushRefused?(facts: RepositoryFacts): string
  /** `head`: the branch the restored HEAD will name, for a repository created with it. */
  open(facts: RepositoryFacts, head?: string): Promise<OpenedDestination>
}

/** `scheme://...` (https, ssh, file): anything else is a local path. */
export function isGitUrl(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
}

export function fillTemplate(template: string, facts: RepositoryFacts): string {
  return template
    .replaceAll('{workspace}', facts.workspace)
    .replaceAll('{slug}', facts.slug)
    .replaceAll('{project}', facts.projectKey ?? 'none')
}

/** `https://host/{workspace}/{slug}.git`, or a local path such as `/restore/{slug}.git`. */
export function urlDestination(
  template: string,
  authorization?: () => Promise<string>
): Destination {
  return {
    describe: template,
    local: !isGitUrl(template),
    target(facts) {
      const target = fillTemplate(template, facts)
      return isGitUrl(target) ? target : path.resolve(target)
    },
    async open(facts, head) {
      const target = fillTemplate(template, facts)
      if (!isGitUrl(target)) {
        const local = path.resolve(target)
        await fs.mkdir(path.dirname(local), { recursive: true })
        const git = createGit()
        // A repository created here is known to be empty: no need to ask it.
        const created = !(await pathExists(local))
        // Created with its HEAD already naming the branch: one git process fewer per repository.
        const initial = created && head ? [`--initial-branch=${head}`] : []
        if (created) await git.run(['init', '--quiet', '--bare', ...initial, local])
        const finish = async (mainBranch: string | undefined) => {
          if (mainBranch && !(created && mainBranch === head))
            await git.run(['symbolic-ref', 'HEAD', `refs/heads/${mainBranch}`], { cwd: local })
        }
        return { url: local, name: local, git, localPath: local, created, finish }
      }
      const { origin, host } = new URL(target)
      const auth: GitAuth[] = authorization ? [{ origin, authorization }] : []
      return { url: target, name: host, git: createGit(auth) }
    }
  }
}

/** A create Bitbucket refused for its content (400; 404 or 409 or 422 from stricter servers). */
const REFUSED_INPUT = new Set([400, 404, 409, 422])

export function bitbucketDestination(options: {
  workspace: string
  apiUrl: string
  auth: BitbucketAuth
  client: BitbucketClient
}): Destination {
  const { client, auth } = options
  const endpoint = (slug: string) =>
    `${options.apiUrl}/repositories/${encodeURIComponent(options.workspace)}/${encodeURIComponent(slug)}`
  return {
    describe: `Bitbucket workspace ${options.workspace}`,
    target: facts => endpoint(facts.slug).toLowerCase(),
    pushRefused: facts =>
      // A snippet is written with the snippet scope, a repository with the repository scope.
      isSnippetSlug(facts.slug)
        ? coded(
            'BB405',
            'Bitbucket refused the push (HTTP 403): give the credential write:snippet:bitbucket (API tokens) or snippet:write (access tokens, OAuth)'
          )
        : coded(
            'BB405',
            'Bitbucket refused the push (HTTP 403): give the credential write:repository:bitbucket (API tokens) or repository:write (access tokens, OAuth)'
          ),
    async open(facts) {
      // A snippet's backup becomes a new snippet: ids are Bitbucket's to give.
      if (isSnippetSlug(facts.slug)) return openNewSnippet(options, facts)
      const found = async () => {
        try {
          return await client.getJson<ApiRepository>(endpoint(facts.slug))
        } catch (error) {
          if (!(error instanceof BitbucketError && error.status === 404)) throw error
          return undefined
        }
      }
      const create = (project: boolean) =>
        client.getJson<ApiRepository>(endpoint(facts.slug), {
          method: 'POST',
          body: {
            type: 'repository',
            scm: 'git',
            is_private: facts.isPrivate,
            description: facts.description,
            ...(project && facts.projectKey ? { project: { key: facts.projectKey } } : {})
          }
        })
      let note: string | undefined
      let repository = await found()
      if (!repository) {
        try {
          repository = await create(true)
        } catch (error) {
          if (!(error instanceof BitbucketError)) throw error
          // The answer lost to a gateway error after Bitbucket created it (the retry then hears "exists").
          repository = await found()
          if (!repository) {
            if (!facts.projectKey || !REFUSED_INPUT.has(error.status)) throw error
            // Mostly a project the destination lacks (a new workspace): its default one, said in the outcome.
            repository = await create(false).catch(() => Promise.reject(error))
            note = `project ${facts.projectKey} was refused (${withoutCode(error.message).replace(/\.$/, '')}), so it is in project ${repository?.project?.key ?? "the workspace's default"}`
          }
        }
      }
      const https = repository?.links?.clone?.find(link => link.name === 'https')?.href
      if (!https)
        throw new Error(
          coded(
            'BB006',
            `Bitbucket gave no https clone link for ${options.workspace}/${facts.slug}`
          )
        )
      const url = stripUser(https)
      const git = createGit([
        { origin: new URL(url).origin, authorization: () => auth.gitAuthorization() }
      ])
      const finish = async (mainBranch: string | undefined) => {
        if (!mainBranch || repository?.mainbranch?.name === mainBranch) return
        // An empty repository takes its main branch from the first push: asked again, no change
        // needs the admin scope that setting it does.
        if (!repository?.mainbranch && (await found())?.mainbranch?.name === mainBranch) return
        await client.getJson(endpoint(facts.slug), {
          method: 'PUT',
          body: { type: 'repository', mainbranch: { type: 'branch', name: mainBranch } }
        })
      }
      const api = { client, base: endpoint(facts.slug) }
      return { url, name: 'Bitbucket', git, finish, note, api }
    }
  }
}

export function githubDestination(settings: GitHubSettings): Destination {
  const api = createGitHubApi({ apiUrl: settings.apiUrl, token: settings.token })
  let owner: Promise<GitHubOwner | undefined> | undefined
  return {
    describe: `GitHub owner ${settings.owner}`,
    target: facts => fillTemplate(settings.nameTemplate, facts).toLowerCase(),
    pushRefused: () =>
      coded(
        'GH403',
        'GitHub refused the push (HTTP 403): give the token Contents: Read and write on the repository (classic tokens: the repo scope)'
      ),
    async open(facts) {
      const resolved = await (owner ??= api.owner(settings.owner))
      if (!resolved)
        throw new Error(
          coded('GH004', `GitHub owner "${settings.owner}" was not found on ${settings.apiUrl}`)
        )
      const name = fillTemplate(settings.nameTemplate, facts)
      const repository =
        (await api.repository(resolved.login, name)) ??
        (await api.createRepository(resolved, {
          name,
          description: facts.description.slice(0, 350),
          homepage: '',
          visibility: settings.visibility
        }))
      const git = githubGitFor(settings.token)(repository.cloneUrl)
      const finish = async (mainBranch: string | undefined) => {
        if (mainBranch && mainBranch !== repository.defaultBranch) {
          await api.setDefaultBranch(repository.fullName, mainBranch)
        }
      }
      return { url: repository.cloneUrl, name: 'GitHub', git, finish }
    }
  }
}
