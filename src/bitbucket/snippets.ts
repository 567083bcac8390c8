// A workspace's snippets as the pipeline's items: each snippet is a git repository (`links.clone`),
// listed by GET /2.0/snippets/{workspace}?role=member and named by a slug no repository can have.
import { createHash } from 'node:crypto'
import type { BitbucketClient } from './client.js'
import { stripUser } from './client.js'
import type { BitbucketRepository } from './types.js'

/**
 * Bitbucket Cloud never puts two dashes in a row in a repository slug (unless it is all dashes), so
 * `snippet--` cannot start one: no snippet's artifact, GitHub repository or directory meets a
 * repository's. Everything after it is `[a-z0-9_.]`, safe on GitHub and case-insensitive disks.
 */
export const SNIPPET_SLUG_PREFIX = 'snippet--'

export const isSnippetSlug = (slug: string): boolean => slug.startsWith(SNIPPET_SLUG_PREFIX)

/**
 * Snippet ids are case-sensitive (`kypJ` and `kypj` differ) while GitHub names and some disks are
 * not: an upper-case letter becomes `_` and its lower case, anything else outside `[a-z0-9]` a `.`
 * and its UTF-8 bytes in hex; the mapping is one to one.
 */
export function snippetSlug(id: string): string {
  let encoded = ''
  for (const char of id) {
    if (/[a-z0-9]/.test(char)) encoded += char
    else if (/[A-Z]/.test(char)) encoded += `_${char.toLowerCase()}`
    else encoded += `.${Buffer.from(char, 'utf8').toString('hex')}`
  }
  return `${SNIPPET_SLUG_PREFIX}${encoded}`
}

/** The snippet id back from its slug (restore names the original). */
export function snippetIdOf(slug: string): string {
  return slug
    .slice(SNIPPET_SLUG_PREFIX.length)
    .replace(/_([a-z])|\.((?:[0-9a-f]{2})+)/g, (_, upper?: string, hex?: string) =>
      upper ? upper.toUpperCase() : Buffer.from(hex!, 'hex').toString('utf8')
    )
}

/** Snippets carry no uuid: a stable one from workspace and id keys the state, shards and mirrors. */
export function snippetUuid(workspace: string, id: string): string {
  const hex = createHash('sha256').update(`snippet\0${workspace}\0${id}`).digest('hex')
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}}`
}

/** The snippet object fields the action reads (the OpenAPI `snippet` schema and its links). */
export interface ApiSnippet {
  id?: string | number
  title?: string
  scm?: string
  is_private?: boolean
  created_on?: string
  updated_on?: string
  links?: { clone?: { name?: string; href?: string }[]; html?: { href?: string } }
}

export function normalizeSnippet(api: ApiSnippet, workspace: string): BitbucketRepository {
  const id = String(api.id ?? '')
  const slug = snippetSlug(id)
  const https = api.links?.clone?.find(link => link.name === 'https')?.href
  return {
    kind: 'snippet',
    uuid: snippetUuid(workspace, id),
    slug,
    name: api.title || slug,
    fullName: `${workspace}/${slug}`,
    workspace,
    scm: api.scm ?? 'git',
    isPrivate: api.is_private ?? true,
    // The title rides as the description: every target and restore source already carries that.
    description: api.title ?? '',
    mainBranch: null,
    updatedOn: api.updated_on ?? '',
    size: 0,
    projectKey: null,
    projectName: null,
    httpsCloneUrl: https ? stripUser(https) : '',
    htmlUrl: api.links?.html?.href ?? '',
    raw: api as Record<string, unknown>
  }
}

/** Every snippet of the workspace (`role=member`: all its snippets, not only the caller's). */
export async function* listSnippets(
  client: BitbucketClient,
  apiUrl: string,
  workspace: string
): AsyncGenerator<BitbucketRepository> {
  const url = `${apiUrl}/snippets/${encodeURIComponent(workspace)}?role=member`
  const listed = new Set<string>()
  for await (const page of client.pages<ApiSnippet>(url)) {
    for (const api of page) {
      const snippet = normalizeSnippet(api, workspace)
      // A snippet created mid-listing shifts the pages: one may come twice.
      if (listed.has(snippet.uuid) || !snippet.httpsCloneUrl || snippet.scm !== 'git') continue
      listed.add(snippet.uuid)
      yield snippet
    }
  }
}
