// The artifact target: each due repository is staged (verified bundle, LFS objects, manifest) and
// uploaded as it finishes, alone or, near the job's artifact limit, in a group; the index comes last.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { firstLineOf } from '../../shared/errors.js'
import type { Git } from '../../git/git.js'
import { formatBytes } from '../../shared/format.js'
import type { Log } from '../../shared/log.js'
import type { ArtifactSettings } from '../../settings/types.js'
import type { BackupTarget, PublishWork, RunProgress } from '../contract/target.js'
import { createFileEncryptor, type FileEncryptor } from './encryption.js'
import { publishIndex } from './index-file.js'
import { artifactName, groupName, singleName } from './names.js'
import { createSlotPlanner, uploadDue, type Placement } from './plan.js'
import { protectionId, UNPROTECTED } from './protection.js'
import { stageRepository } from './stage.js'
import type { ArtifactUploader } from './uploader.js'
import { coded, ensureCoded } from '../../shared/codes.js'

const PUBLIC_REFUSAL =
  'not uploaded: this workflow runs in a public GitHub repository, whose artifacts anyone signed in can download, and the Bitbucket repository is private; set encryption-passphrase or encryption-recipients to back it up here'

interface Group {
  name: string
  root: string
  members: PublishWork[]
  files: string[]
  bytes: number
  /** Members still being staged: a group is uploaded only once all of them are in. */
  staging: Promise<unknown>[]
}

export interface ArtifactTargetOptions {
  settings: ArtifactSettings
  git: Git
  lfs: boolean
  workDir: string
  uploader: ArtifactUploader
  progress: RunProgress
  /** Most bytes a group may stage before it is uploaded (a share of the runner's disk). */
  maxGroupBytes: number
  log: Log
  /** A record was written into a state after its repository finished (a group was uploaded). */
  recorded(): void
  now?: () => Date
}

export function createArtifactTarget(options: ArtifactTargetOptions): BackupTarget {
  const { settings, log } = options
  const now = options.now ?? (() => new Date())
  // One artifact is kept for the index.
  const planner = createSlotPlanner(settings.maxArtifacts - 1, options.maxGroupBytes)
  const taken = new Set<string>()
  let protection = UNPROTECTED
  let encryptor: FileEncryptor | undefined
  let open: Group | undefined
  let groups = 0
  let uploaded = { artifacts: 0, repositories: 0 }

  const stage = (work: PublishWork, root: string) =>
    stageRepository({
      git: options.git,
      mirror: work.mirror,
      repository: work.repository,
      fingerprint: work.state.fingerprint,
      lfs: options.lfs,
      lfsMissing: new Set((work.state.lfsMissing ?? []).map(object => object.oid)),
      root,
      encryptor,
      run: { id: settings.runId, attempt: settings.runAttempt }
    })

  function record(members: PublishWork[], name: string, id: number, started: number) {
    for (const member of members) {
      const missing = member.state.lfsMissing?.length ?? 0
      member.state.artifact = {
        name,
        id,
        runId: settings.runId,
        // Retention runs from the upload's start: the index never promises a later expiry.
        uploadedAt: new Date(started).toISOString(),
        retentionDays: settings.retentionDays,
        fingerprint: member.state.fingerprint,
        ...(member.state.metadata?.commit ? { metadataCommit: member.state.metadata.commit } : {}),
        lfs: member.state.lfsComplete,
        ...(missing > 0 ? { lfsMissing: missing } : {}),
        encrypted: settings.encryption !== undefined,
        protection
      }
      member.result.artifact = name
    }
    uploaded = {
      artifacts: uploaded.artifacts + 1,
      repositories: uploaded.repositories + members.length
    }
  }

  async function upload(name: string, root: string, files: string[], members: PublishWork[]) {
    const started = Date.now()
    const { id } = await options.uploader.upload(name, files, root, settings.retentionDays)
    record(members, name, id, started)
    return (Date.now() - started) / 1000
  }

  async function uploadAlone(work: PublishWork): Promise<void> {
    const name = artifactName(singleName(work.repository, taken), settings)
    const root = path.join(options.workDir, 'artifacts', name)
    try {
      await fs.rm(root, { recursive: true, force: true })
      const staged = await stage(work, root)
      const seconds = await upload(name, root, staged.files, [work])
      work.log(`uploaded artifact ${name}: ${formatBytes(staged.bytes)} in ${seconds.toFixed(1)} s`)
    } catch (error) {
      throw new Error(coded('ART001', `artifact ${name} was not uploaded: ${firstLineOf(error)}`), {
        cause: error
      })
    } finally {
      await fs.rm(root, { recursive: true, force: true })
    }
  }

  /** Uploads a closed group once every member is staged; a failure fails its members, not the caller. */
  async function uploadGroup(group: Group): Promise<void> {
    await Promise.all(group.staging)
    try {
      if (group.members.length === 0) return
      const seconds = await upload(group.name, group.root, group.files, group.members)
      log.info(
        `[artifact] ${group.name}: ${group.members.length} repositories, ${formatBytes(group.bytes)}, ${seconds.toFixed(1)} s`
      )
      options.recorded()
    } catch (error) {
      const reason = `artifact ${group.name} was not uploaded: ${firstLineOf(error)}`
      log.warning(
        coded(
          'ART001',
          `${reason}; ${group.members.length} repositories are uploaded by the next run`
        )
      )
      for (const member of group.members) {
        member.result.status = 'failed'
        member.result.detail = coded('ART001', reason)
      }
    } finally {
      await fs.rm(group.root, { recursive: true, force: true })
    }
  }

  async function addToGroup(work: PublishWork, placement: Placement & { alone: false }) {
    if (placement.opensGroup || !open) {
      const name = artifactName(groupName(++groups, settings), settings)
      const root = path.join(options.workDir, 'artifacts', name)
      open = { name, root, members: [], files: [], bytes: 0, staging: [] }
    }
    const group = open
    if (placement.closesGroup) open = undefined
    const staging = stage(work, group.root).then(staged => {
      group.members.push(work)
      group.files.push(...staged.files)
      group.bytes += staged.bytes
    })
    group.staging.push(staging.catch(() => undefined))
    try {
      await staging
    } catch (error) {
      const folder = path.join(group.root, work.repository.workspace, work.repository.slug)
      await fs.rm(folder, { recursive: true, force: true })
      throw new Error(
        coded('ART001', `not staged for artifact ${group.name}: ${firstLineOf(error)}`),
        {
          cause: error
        }
      )
    }
    work.log(`staged into artifact ${group.name}, uploaded when the group is full`)
    if (placement.closesGroup) await uploadGroup(group)
  }

  return {
    kind: 'artifact',
    costly: true,
    diskPerMirrorByte: settings.encryption ? 2 : 1,
    async prepare(states) {
      protection = await protectionId(settings.encryption, states)
      encryptor = settings.encryption ? await createFileEncryptor(settings.encryption) : undefined
    },
    due: state => uploadDue(state, settings.retentionDays, now(), protection),
    async publish(work) {
      if (settings.publicWorkflowRepository && !settings.encryption && work.repository.isPrivate) {
        throw new Error(coded('ART004', PUBLIC_REFUSAL))
      }
      // Alone or grouped depends on how many are still to come: the listing must be complete.
      await options.progress.settled
      const placement = planner.place(work.plannedBytes, options.progress.remaining())
      if (placement.alone) await uploadAlone(work)
      else await addToGroup(work, placement)
    },
    async relieve() {
      const group = open
      if (!group) return
      open = undefined
      planner.closeGroup()
      await uploadGroup(group)
    },
    async finish({ states, cancelled }) {
      if (open && !cancelled) {
        const group = open
        open = undefined
        await uploadGroup(group)
      }
      const index = await publishIndex({
        settings,
        states,
        workDir: options.workDir,
        uploader: options.uploader,
        encryptor
      }).catch((error: unknown) => {
        const line = `The artifact index was not uploaded: ${firstLineOf(error)}`
        throw new Error(ensureCoded('ART002', line), { cause: error })
      })
      log.info(
        `Artifacts: ${uploaded.repositories} repositories in ${uploaded.artifacts} artifacts, plus ${index}.`
      )
    },
    figures: () => ({ artifactsUploaded: uploaded.artifacts })
  }
}
