// ArtifactService handlers with the real service's rules, storing blobs in Azurite.
import { randomUUID } from 'node:crypto'
import { ARTIFACT_CONTAINER, type BlobStore } from './azurite.js'
import {
  optionalInt64,
  optionalString,
  optionalTimestamp,
  requireString,
  timestampJson
} from './fields.js'
import type { RunIdentity } from './jwt.js'
import { TwirpError, type Json, type TwirpHandler } from './twirp.js'

/** One artifact as the service stores it. */
export interface ArtifactRecord {
  /** Database id (the number `uploadArtifact` returns and `downloadArtifact` takes). */
  id: number
  runId: string
  jobId: string
  name: string
  /** Bytes, as reported at finalize (checked against the blob). */
  size: number
  /** `sha256:<hex>` as reported at finalize, when the client sent one. */
  digest?: string
  mimeType: string
  createdAt: Date
  expiresAt: Date
  finalizedAt?: Date
  /** `<container>/<blob>` inside Azurite's dev account. */
  blobPath: string
  container: string
  blob: string
}

export interface ArtifactServiceOptions {
  blobs: BlobStore
  now: () => Date
  nextId: () => number
  /** Real service: 500 per job. */
  maxArtifactsPerJob: number
  /** Retention when the client sends no `expires_at`, and the cap on it (repository setting). */
  retentionDays: number
}

const DAY_MS = 24 * 3600_000
const INVALID_NAME = /["':<>|*?\r\n\\/]/

export function createArtifactService(options: ArtifactServiceOptions) {
  const { blobs, now } = options
  const pending = new Map<string, ArtifactRecord>()
  const finalized: ArtifactRecord[] = []
  const keyOf = (runId: string, name: string) => `${runId}\u0000${name}`

  const checkCaller = (body: Json, caller: RunIdentity, sameJob: boolean) => {
    const runId = requireString(body, 'workflow_run_backend_id')
    const jobId = requireString(body, 'workflow_job_run_backend_id')
    if (runId !== caller.runId || (sameJob && jobId !== caller.jobId)) {
      throw new TwirpError('permission_denied', 'the token does not grant access to this run/job')
    }
    return { runId, jobId }
  }
  const live = () => finalized.filter(a => a.expiresAt.getTime() > now().getTime())
  const findLive = (runId: string, name: string) =>
    live().find(a => a.runId === runId && a.name === name)

  /** A read-only SAS URL for the artifact's blob, named as the real service names the download. */
  const signedDownloadUrl = (record: ArtifactRecord, ttlMs?: number): string => {
    const fileName = record.blob.slice(record.blob.lastIndexOf('/') + 1)
    const contentDisposition = `attachment; filename="${fileName.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
    return blobs.downloadUrl(record.container, record.blob, { contentDisposition, ttlMs })
  }

  const toJson = (a: ArtifactRecord): Json => ({
    workflow_run_backend_id: a.runId,
    workflow_job_run_backend_id: a.jobId,
    database_id: String(a.id),
    name: a.name,
    size: String(a.size),
    created_at: timestampJson(a.createdAt),
    ...(a.digest ? { digest: a.digest } : {})
  })

  const handlers: Record<string, TwirpHandler> = {
    CreateArtifact(body, caller) {
      const { runId, jobId } = checkCaller(body, caller, true)
      const name = requireString(body, 'name')
      if (INVALID_NAME.test(name) || name.trim() !== name) {
        throw new TwirpError('invalid_argument', `invalid artifact name: ${name}`)
      }
      const createdAt = now()
      const maxExpiry = new Date(createdAt.getTime() + options.retentionDays * DAY_MS)
      const requested = optionalTimestamp(body, 'expires_at')
      if (requested && requested.getTime() <= createdAt.getTime()) {
        throw new TwirpError('invalid_argument', 'expires_at must be in the future')
      }
      const expiresAt = requested && requested < maxExpiry ? requested : maxExpiry
      const key = keyOf(runId, name)
      const previous = pending.get(key)
      if (findLive(runId, name) || (previous && previous.jobId !== jobId)) {
        throw new TwirpError(
          'already_exists',
          'an artifact with this name already exists on the workflow run'
        )
      }
      const inJob =
        finalized.filter(a => a.runId === runId && a.jobId === jobId).length +
        [...pending.values()].filter(a => a !== previous && a.runId === runId && a.jobId === jobId)
          .length
      if (inJob >= options.maxArtifactsPerJob) {
        throw new TwirpError(
          'failed_precondition',
          `the maximum number of artifacts (${options.maxArtifactsPerJob}) for this job has been reached`
        )
      }
      const mimeType = optionalString(body, 'mime_type') ?? 'application/zip'
      const fileName =
        mimeType === 'application/zip' && !name.endsWith('.zip') ? `${name}.zip` : name
      const blob = `${runId}/${jobId}/${randomUUID()}/${fileName}`
      // A retried upload of an artifact that was never finalized replaces the pending one.
      pending.set(key, {
        id: previous?.id ?? options.nextId(),
        runId,
        jobId,
        name,
        size: 0,
        mimeType,
        createdAt,
        expiresAt,
        container: ARTIFACT_CONTAINER,
        blob,
        blobPath: `${ARTIFACT_CONTAINER}/${blob}`
      })
      if (previous) void blobs.remove(ARTIFACT_CONTAINER, previous.blob).catch(() => {})
      return { ok: true, signed_upload_url: blobs.uploadUrl(ARTIFACT_CONTAINER, blob) }
    },

    async FinalizeArtifact(body, caller) {
      const { runId } = checkCaller(body, caller, true)
      const name = requireString(body, 'name')
      const size = optionalInt64(body, 'size') ?? 0
      const record = pending.get(keyOf(runId, name))
      if (!record || record.jobId !== caller.jobId) {
        throw new TwirpError('not_found', `no artifact named ${name} is being uploaded by this job`)
      }
      const actual = await blobs.size(record.container, record.blob)
      if (actual === undefined) {
        throw new TwirpError('failed_precondition', `nothing was uploaded for artifact ${name}`)
      }
      if (actual !== size) {
        throw new TwirpError(
          'invalid_argument',
          `size ${size} does not match the uploaded blob (${actual} bytes)`
        )
      }
      pending.delete(keyOf(runId, name))
      const digest = optionalString(body, 'hash')
      finalized.push({ ...record, size, digest, finalizedAt: now() })
      return { ok: true, artifact_id: String(record.id) }
    },

    ListArtifacts(body, caller) {
      const { runId } = checkCaller(body, caller, false)
      const nameFilter = optionalString(body, 'name_filter')
      const idFilter = optionalInt64(body, 'id_filter')
      const artifacts = live()
        .filter(a => a.runId === runId)
        .filter(a => nameFilter === undefined || a.name === nameFilter)
        .filter(a => idFilter === undefined || a.id === idFilter)
        .map(toJson)
      return { artifacts }
    },

    GetSignedArtifactURL(body, caller) {
      const { runId } = checkCaller(body, caller, false)
      const name = requireString(body, 'name')
      const record = findLive(runId, name)
      if (!record) throw new TwirpError('not_found', `artifact ${name} not found`)
      return { signed_url: signedDownloadUrl(record) }
    },

    async DeleteArtifact(body, caller) {
      const { runId } = checkCaller(body, caller, false)
      const name = requireString(body, 'name')
      const record = findLive(runId, name)
      if (!record) throw new TwirpError('not_found', `artifact ${name} not found`)
      finalized.splice(finalized.indexOf(record), 1)
      await blobs.remove(record.container, record.blob)
      return { ok: true, artifact_id: String(record.id) }
    }
  }

  return {
    handlers,
    /** Finalized artifacts, oldest first (expired ones included; they are no longer listed). */
    artifacts: (): ArtifactRecord[] => finalized.map(a => ({ ...a })),
    /** The blob URL of a finalized artifact (expired or not: the caller decides), or undefined. */
    downloadUrl(id: number, ttlMs?: number): string | undefined {
      const record = finalized.find(a => a.id === id)
      return record && signedDownloadUrl(record, ttlMs)
    }
  }
}
