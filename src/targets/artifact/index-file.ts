// The index artifact: where each repository's newest artifact is, so one download finds any repository.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { messageOf } from '../../shared/errors.js'
import type { ArtifactSettings } from '../../settings/types.js'
import type { WorkspaceState } from '../../state/state.js'
import { ENCRYPTED_SUFFIX, WRAPPED_IDENTITY_FILE, type FileEncryptor } from './encryption.js'
import { artifactName, INDEX_ARTIFACT } from './names.js'
import type { ArtifactUploader } from './uploader.js'
import { coded } from '../../shared/codes.js'

const DAY_MS = 24 * 3600_000

export function indexEntries(states: WorkspaceState[]) {
  return states.flatMap(state =>
    Object.values(state.repositories).map(repository => ({
      workspace: repository.workspace,
      slug: repository.slug,
      uuid: repository.uuid,
      fingerprint: repository.fingerprint,
      artifact: repository.artifact
        ? {
            ...repository.artifact,
            expiresAt: new Date(
              Date.parse(repository.artifact.uploadedAt) +
                repository.artifact.retentionDays * DAY_MS
            ).toISOString()
          }
        : null
    }))
  )
}

export async function publishIndex(options: {
  settings: ArtifactSettings
  states: WorkspaceState[]
  workDir: string
  uploader: ArtifactUploader
  encryptor: FileEncryptor | undefined
}): Promise<string> {
  const { settings, encryptor } = options
  const root = path.join(options.workDir, 'artifacts', 'index')
  await fs.rm(root, { recursive: true, force: true })
  await fs.mkdir(root, { recursive: true })
  try {
    const file = path.join(root, 'index.json')
    const index = {
      generatedAt: new Date().toISOString(),
      runId: settings.runId,
      repositories: indexEntries(options.states)
    }
    await fs.writeFile(file, `${JSON.stringify(index, null, 2)}\n`)
    const files = [file]
    if (encryptor) {
      await encryptor.encryptFile(file, `${file}${ENCRYPTED_SUFFIX}`)
      await fs.rm(file)
      files[0] = `${file}${ENCRYPTED_SUFFIX}`
      if (encryptor.wrappedIdentity) {
        files.push(path.join(root, WRAPPED_IDENTITY_FILE))
        await fs.writeFile(files[1], encryptor.wrappedIdentity)
      }
    }
    // Each shard writes its own index; the index job lists them all under INDEX_ARTIFACT.
    const base = settings.shard ? `${INDEX_ARTIFACT}-shard-${settings.shard}` : INDEX_ARTIFACT
    const name = artifactName(base, settings)
    await options.uploader
      .upload(name, files, root, settings.retentionDays)
      .catch((error: unknown) => {
        // Names are unique within a workflow run: another step or job of this run made an index.
        if (/already exists|\(409\)/i.test(messageOf(error))) {
          throw new Error(
            coded(
              'ART003',
              `${name} already exists in this workflow run: another step or job of it uploaded one with target: artifact; back up every workspace in one step (workspace: a, b), or those that need other credentials from a workflow of their own`
            ),
            { cause: error }
          )
        }
        throw error
      })
    return name
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
}
