// @actions/artifact behind the small interface the artifact target needs.
import { DefaultArtifactClient } from '@actions/artifact'
import type { ArtifactUploader } from './publish.js'

export function createArtifactUploader(): ArtifactUploader {
  const client = new DefaultArtifactClient()
  return {
    async upload(name, files, root, retentionDays) {
      // Bundles and LFS objects are compressed already: storing them spares the runner's CPU.
      const response = await client.uploadArtifact(name, files, root, {
        retentionDays,
        compressionLevel: 0
      })
      if (response.id === undefined)
        throw new Error(`the artifact service returned no id for ${name}`)
      return { id: response.id }
    }
  }
}
