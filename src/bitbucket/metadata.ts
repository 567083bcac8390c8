// The repository as the API describes it, kept beside each backup.
import type { BitbucketRepository } from './types.js'

/** The API object as metadata, without the calling user's name that Bitbucket embeds in clone links. */
export function repositoryMetadata(repository: BitbucketRepository): string {
  const text = JSON.stringify(repository.raw, null, 2)
  return `${text.replace(/(https?:\/\/)[^/@"\s]+@/g, '$1')}\n`
}
