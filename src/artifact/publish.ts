// The artifact target: stage the repositories that are due, upload them in groups under the job limit,
// then upload an index that says where every repository's newest copy lives.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { BitbucketRepository } from '../bitbucket/types.js'
import type { Git } from '../git/git.js'
import { formatBytes } from '../report.js'
import type { RepositoryResult } from '../results.js'
import type { ArtifactSettings } from '../settings-types.js'
import type { RepositoryState, WorkspaceState } from '../state/state.js'
import { bareUuid } from '../state/store.js'
import {
  createFileEncryptor,
  ENCRYPTED_SUFFIX,
  WRAPPED_IDENTITY_FILE,
  type FileEncryptor
} from './encryption.js'
import { groupForLimit } from './plan.js'
import { stageRepository } from './stage.js'

export interface ArtifactCandidate {
  repository: BitbucketRepository
  mirror: string
  state: RepositoryState
  result: RepositoryResult
}

export interface ArtifactUploader {
  upload(
    name: string,
    files: string[],
    root: string,
    retentionDays: number
  ): Promise<{ id: number }>
}

export interface ArtifactLog {
  info(message: string): void
  startGroup(name: string): void
  endGroup(): void
}

export const INDEX_ARTIFACT = 'bitbucket-backup-index'

/** Names are unique within a run: re-run attempts get their own suffix. */
function artifactName(base: string, settings: ArtifactSettings): string {
  return settings.runAttempt !== '1' ? `${base}-attempt-${settings.runAttempt}` : base
}

const GROUP_NAME = /^bitbucket-(shard-.+-)?group-\d{3}$/

/**
 * `bitbucket-<workspace>-<slug>`, unless that is taken in this run (workspace `a-b` with `c` and `a`
 * with `b-c`) or reads as the index or a group: then the uuid's first characters tell them apart.
 */
export function singleName(
  repository: { workspace: string; slug: string; uuid: string },
  taken: Set<string>
) {
  let name = `bitbucket-${repository.workspace}-${repository.slug}`
  if (taken.has(name) || name.startsWith(INDEX_ARTIFACT) || GROUP_NAME.test(name)) {
    name = `${name}-${bareUuid(repository.uuid).slice(0, 8)}`
  }
  taken.add(name)
  return name
}

const PUBLIC_REFUSAL =
  'not uploaded: this workflow runs in a public GitHub repository, whose artifacts anyone signed in can download, and the Bitbucket repository is private; set encryption-passphrase or encryption-recipients to back it up here'

function fail(candidate: ArtifactCandidate, detail: string) {
  candidate.result.status = 'failed'
  candidate.result.detail = detail
}

export async function publishArtifacts(options: {
  settings: ArtifactSettings
  candidates: ArtifactCandidate[]
  states: WorkspaceState[]
  git: Git
  lfs: boolean
  workDir: string
  uploader: ArtifactUploader
  log: ArtifactLog
}): Promise<void> {
  const { settings, log } = options
  const allowed: ArtifactCandidate[] = []
  for (const candidate of options.candidates) {
    const exposed = settings.publicWorkflowRepository && !settings.encryption
    if (exposed && candidate.repository.isPrivate) fail(candidate, PUBLIC_REFUSAL)
    else allowed.push(candidate)
  }
  const encryptor = settings.encryption ? await createFileEncryptor(settings.encryption) : undefined
  const byKey = new Map(allowed.map(candidate => [candidate.repository.uuid, candidate]))
  // One artifact is kept for the index.
  const groups = groupForLimit(
    allowed.map(candidate => ({ key: candidate.repository.uuid, bytes: candidate.state.bytes })),
    settings.maxArtifacts - 1
  )
  let done = 0
  const singles = new Set<string>()
  for (const [index, group] of groups.entries()) {
    const members = group.map(item => byKey.get(item.key)!)
    const first = members[0].repository
    const base =
      members.length === 1
        ? singleName(first, singles)
        : `bitbucket-${settings.shard ? `shard-${settings.shard}-` : ''}group-${String(index + 1).padStart(3, '0')}`
    const name = artifactName(base, settings)
    const root = path.join(options.workDir, 'artifacts', name)
    const started = Date.now()
    try {
      await fs.rm(root, { recursive: true, force: true })
      const files: string[] = []
      let bytes = 0
      for (const member of members) {
        const staged = await stageRepository({
          git: options.git,
          mirror: member.mirror,
          repository: member.repository,
          fingerprint: member.state.fingerprint,
          lfs: options.lfs,
          root,
          encryptor,
          run: { id: settings.runId, attempt: settings.runAttempt }
        })
        files.push(...staged.files)
        bytes += staged.bytes
      }
      const { id } = await options.uploader.upload(name, files, root, settings.retentionDays)
      for (const member of members) {
        member.state.artifact = {
          name,
          id,
          runId: settings.runId,
          // Retention runs from the upload's start: the index never promises a later expiry.
          uploadedAt: new Date(started).toISOString(),
          retentionDays: settings.retentionDays,
          fingerprint: member.state.fingerprint,
          lfs: member.state.lfsComplete,
          encrypted: settings.encryption !== undefined
        }
        member.result.artifact = name
      }
      done += members.length
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      log.info(
        `[artifact ${index + 1}/${groups.length}] ${name}: ${members.length} ${members.length === 1 ? 'repository' : 'repositories'}, ${formatBytes(bytes)}, ${seconds} s`
      )
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]
      for (const member of members) fail(member, `artifact ${name} was not uploaded: ${reason}`)
    } finally {
      await fs.rm(root, { recursive: true, force: true })
    }
  }
  if (groups.length > 0 || options.states.length > 0) {
    await publishIndex(options, encryptor)
    log.info(
      `Artifacts: ${done} repositories in ${groups.length} artifacts, plus ${INDEX_ARTIFACT}.`
    )
  }
}

/** Where each repository's newest artifact is, so one download finds any repository. */
async function publishIndex(
  options: Parameters<typeof publishArtifacts>[0],
  encryptor: FileEncryptor | undefined
): Promise<void> {
  const { settings } = options
  const repositories = options.states.flatMap(state =>
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
                repository.artifact.retentionDays * 24 * 3600_000
            ).toISOString()
          }
        : null
    }))
  )
  const root = path.join(options.workDir, 'artifacts', 'index')
  await fs.rm(root, { recursive: true, force: true })
  await fs.mkdir(root, { recursive: true })
  try {
    const file = path.join(root, 'index.json')
    const index = { generatedAt: new Date().toISOString(), runId: settings.runId, repositories }
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
        if (
          /already exists|\(409\)/i.test(error instanceof Error ? error.message : String(error))
        ) {
          throw new Error(
            `${name} already exists in this workflow run: another step or job of it uploaded one with target: artifact; back up every workspace in one step (workspace: a, b), or those that need other credentials from a workflow of their own`,
            { cause: error }
          )
        }
        throw error
      })
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
}
