// A snippet restored into a Bitbucket workspace: a new snippet (Bitbucket gives it a new id) with the
// original's title and visibility, then the backup's history pushed into its git. Its comments stay
// in the archive: recreated ones would have the restorer as author and today's dates.
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { stripUser, type BitbucketClient } from '../bitbucket/client.js'
import { snippetIdOf, type ApiSnippet } from '../bitbucket/snippets.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { createGit, type Git } from '../git/git.js'
import { isPushableRef, parseRefLines } from '../git/refs.js'
import type { RepositoryFacts } from './sources.js'
import { CodedError } from '../shared/codes.js'

/** What a snippet restore needs of the destination: the same as a repository's. */
export interface SnippetWorkspace {
  workspace: string
  apiUrl: string
  auth: BitbucketAuth
  client: BitbucketClient
}

/** What destination.ts opens for a push (its OpenedDestination, named here without a cycle). */
export interface OpenedSnippet {
  url: string
  name: string
  git: Git
  created: boolean
  note: string
  finish(): Promise<void>
}

/**
 * POST /2.0/snippets/{workspace} as the operation's own text says snippets are created: a multipart
 * form of its title and privacy (curl -F), no file; the history comes with the push.
 */
export async function openNewSnippet(
  options: SnippetWorkspace,
  facts: RepositoryFacts
): Promise<OpenedSnippet> {
  const created = await options.client.getJson<ApiSnippet>(
    `${options.apiUrl}/snippets/${encodeURIComponent(options.workspace)}`,
    {
      method: 'POST',
      form: snippetForm(facts)
    }
  )
  const id = String(created?.id ?? '')
  const https = created?.links?.clone?.find(link => link.name === 'https')?.href
  if (!id || !https)
    throw new CodedError(
      'BB006',
      `Bitbucket created a snippet in ${options.workspace} but gave no id or https clone link`
    )
  const url = stripUser(https)
  const git = createGit([
    { origin: new URL(url).origin, authorization: () => options.auth.gitAuthorization() }
  ])
  // Bitbucket may commit something on creation: that is this restore's, which the push replaces.
  const initial = parseRefLines(await git.run(['ls-remote', url]))
  return {
    url,
    name: 'Bitbucket',
    git,
    // Pushed as into an empty repository: nothing of the original is there to keep.
    created: true,
    note: `a new snippet ${id} (the original was ${snippetIdOf(facts.slug)}); its comments are in the backup's archive only`,
    async finish() {
      // What the push did not replace of the creation's commit goes: the refs are the backup's alone.
      const now = parseRefLines(await git.run(['ls-remote', url]))
      const leftOver = [...initial.keys()].filter(
        ref => isPushableRef(ref) && now.get(ref) === initial.get(ref)
      )
      if (leftOver.length > 0) await deleteRefs(git, url, leftOver, id)
    }
  }
}

function snippetForm(facts: RepositoryFacts): FormData {
  const form = new FormData()
  // The backup carries a snippet's title as its description (every target keeps that one).
  form.append('title', facts.description)
  form.append('is_private', String(facts.isPrivate))
  form.append('scm', 'git')
  return form
}

/** Deletes refs of the new snippet; a refusal (its HEAD branch) is said plainly. */
async function deleteRefs(git: Git, url: string, refs: string[], id: string): Promise<void> {
  // git pushes from a repository only: an empty one will do for deletions.
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'bitbucket-backup-snippet-'))
  try {
    await git.run(['init', '--quiet', '--bare', scratch])
    const deletions = refs.map(ref => `:${ref}`)
    await git.run(['push', '--quiet', url, ...deletions], { cwd: scratch })
  } catch {
    // A server refuses to delete the branch HEAD names, and the API cannot move a snippet's HEAD.
    throw new CodedError(
      'RS011',
      `the new snippet ${id} keeps ${refs.join(', ')} with the commit Bitbucket made on creation: the backup has no such branch, and Bitbucket refused to delete it (a snippet's HEAD cannot be moved through the API); the backup's branches are pushed beside it`
    )
  } finally {
    await fs.rm(scratch, { recursive: true, force: true })
  }
}
