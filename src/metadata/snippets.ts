// A snippet's metadata: its REST object (title, visibility, owner, files) and its comments, archived
// beside its git in refs/backup/metadata. The listing carries `updated_on`: a snippet that did not
// change since the last archive costs no request.
import type { BitbucketClient } from '../bitbucket/client.js'
import { repositoryMetadata } from '../bitbucket/metadata.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { MetadataState } from '../state/state.js'
import type { Archive } from './archive.js'
import { FULL_PASS_DAYS, rotationDue } from './cadence.js'
import { ArchivePaths, type ApiComment } from './layout.js'

/** A new comment may not move the snippet's `updated_on` (UNCONFIRMED): comments are reread as often as pull requests. */
export const SNIPPET_COMMENTS_DAYS = FULL_PASS_DAYS

/** Archived again when the listing's `updated_on` moved, git changed, or the comments are due. */
export function snippetDue(
  snippet: BitbucketRepository,
  meta: MetadataState,
  gitChanged: boolean,
  now: Date
): boolean {
  return (
    gitChanged ||
    meta.snippetUpdatedOn !== snippet.updatedOn ||
    rotationDue(snippet.uuid, meta.snippetCheckedAt, SNIPPET_COMMENTS_DAYS, now)
  )
}

/** The snippet's REST base, from its id in the listing's object. */
export const snippetBase = (apiUrl: string, snippet: BitbucketRepository) =>
  `${apiUrl}/snippets/${encodeURIComponent(snippet.workspace)}/${encodeURIComponent(String(snippet.raw.id ?? ''))}`

/** Writes snippet.json (the listing's object) and snippet-comments.json; the number of comments. */
export async function archiveSnippet(
  client: BitbucketClient,
  apiUrl: string,
  snippet: BitbucketRepository,
  archive: Archive
): Promise<number> {
  const comments: ApiComment[] = []
  for await (const page of client.pages<ApiComment>(
    `${snippetBase(apiUrl, snippet)}/comments`,
    'metadata'
  ))
    comments.push(...page)
  // Without the caller's user name that Bitbucket embeds in the clone links, as beside a mirror.
  archive.putText(ArchivePaths.snippet, repositoryMetadata(snippet))
  archive.putJson(ArchivePaths.snippetComments, comments)
  return comments.length
}
