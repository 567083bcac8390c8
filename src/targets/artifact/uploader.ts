// @actions/artifact behind the small interface the artifact target needs, loaded at its first use
// (the toolkit and its Azure client take a tenth of a second to load; a run without artifacts skips it).

export interface ArtifactUploader {
  upload(
    name: string,
    files: string[],
    root: string,
    retentionDays: number
  ): Promise<{ id: number }>
}

/** Upload blocks in flight: each holds an 8 MB buffer, and runners have little memory to spare. */
const UPLOAD_CONCURRENCY = '1'

export function createArtifactUploader(env: NodeJS.ProcessEnv = process.env): ArtifactUploader {
  // The toolkit's own knob; a value the user set in the workflow wins.
  env.ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY ??= UPLOAD_CONCURRENCY
  let client: Promise<import('@actions/artifact').ArtifactClient> | undefined
  return {
    async upload(name, files, root, retentionDays) {
      client ??= import('@actions/artifact').then(toolkit => new toolkit.DefaultArtifactClient())
      // Bundles and LFS objects are compressed already: storing them spares the runner's CPU.
      const response = await (
        await client
      ).uploadArtifact(name, files, root, {
        retentionDays,
        compressionLevel: 0
      })
      if (response.id === undefined)
        throw new Error(`the artifact service returned no id for ${name}`)
      return { id: response.id }
    }
  }
}

/** The artifacts this run has uploaded so far (the index job reads the shards' indexes). */
export async function listRunArtifacts(): Promise<{ name: string; id: number }[]> {
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const { artifacts } = await new DefaultArtifactClient().listArtifacts({ latest: true })
  return artifacts.map(artifact => ({ name: artifact.name, id: artifact.id }))
}
