// What each part of a metadata restore shares: the destination repository's REST API, the archive,
// and the tally of what was written and what was not (one line each, never a failed repository).
import type { BitbucketClient } from '../../bitbucket/client.js'
import { messageOf } from '../../shared/errors.js'
import type { ArchiveSnapshot } from './archive.js'

/** The destination repository on Bitbucket: `base` is `<api>/repositories/<workspace>/<slug>`. */
export interface RepositoryApi {
  client: BitbucketClient
  base: string
}

export interface MetadataContext {
  api: RepositoryApi
  archive: ArchiveSnapshot
  scratch: string
  log(line: string): void
  /** What was written, by kind: `hooks` → 2. */
  restored: Map<string, number>
  /** What could not be written: one line each, for the checklist. */
  problems: string[]
}

export function count(context: MetadataContext, kind: string): void {
  context.restored.set(kind, (context.restored.get(kind) ?? 0) + 1)
}

/**
 * Runs one write; a refusal becomes a problem line naming what was not restored, and why.
 * @param missing what a 404 means here (a user or group the destination lacks), said instead
 */
export async function attempt(
  context: MetadataContext,
  what: string,
  write: () => Promise<unknown>,
  missing?: string
): Promise<boolean> {
  try {
    await write()
    return true
  } catch (error) {
    const notFound = missing && (error as { status?: unknown }).status === 404
    const reason = notFound ? `${missing} (HTTP 404)` : messageOf(error).replace(/\.$/, '')
    context.problems.push(`${what}: ${reason}`)
    return false
  }
}

/** Every value of a paged collection of the destination repository (`path` below its base). */
export async function listAll<T>(api: RepositoryApi, path: string, pagelen = 100): Promise<T[]> {
  const values: T[] = []
  const separator = path.includes('?') ? '&' : '?'
  for await (const page of api.client.pages<T>(`${api.base}${path}${separator}pagelen=${pagelen}`))
    values.push(...page)
  return values
}
