/**
 * Local stand-in for the GitHub Actions results service (artifacts + cache v2), with Azurite as
 * its blob store, so that the real `@actions/artifact` v6 and `@actions/cache` v6 run unmodified.
 *
 * ```ts
 * const rs = await startResultsService()
 * const restore = applyEnv(rs.env({ runId: 1, jobId: 'backup', runnerTemp, workspace }))
 * const { DefaultArtifactClient } = await import('@actions/artifact')
 * ...
 * restore()
 * await rs.close()
 * ```
 * @packageDocumentation
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createArtifactService, type ArtifactRecord } from './artifact-service.js'
import { startAzurite, type BlobStore } from './azurite.js'
import { createCacheService, type CacheEntryRecord } from './cache-service.js'
import { buildRunEnv, type RunEnvOptions } from './env.js'
import { makeRuntimeToken, type RuntimeTokenOptions } from './jwt.js'
import {
  ARTIFACT_SERVICE,
  CACHE_SERVICE,
  startTwirpServer,
  type FaultSpec,
  type RequestRecord
} from './twirp.js'

export type { ArtifactRecord } from './artifact-service.js'
export type { BlobStore, SignedUrlOptions } from './azurite.js'
export { ARTIFACT_CONTAINER, CACHE_CONTAINER, DEV_ACCOUNT, DEV_ACCOUNT_KEY } from './azurite.js'
export type { CacheEntryRecord } from './cache-service.js'
export { applyEnv, buildRunEnv, shortenRetryDelays, withEnv, type RunEnvOptions } from './env.js'
export { identityFromAuthorization, makeRuntimeToken, type RuntimeTokenOptions } from './jwt.js'
export type { RunIdentity } from './jwt.js'
export {
  ARTIFACT_SERVICE,
  CACHE_SERVICE,
  TwirpError,
  callTwirp,
  type TwirpResponse
} from './twirp.js'
export { captureToolkitOutput, type CapturedOutput } from './toolkit-output.js'
export { hashTree } from './tree-hash.js'
export type { FaultSpec, RequestRecord, ServiceName } from './twirp.js'

export interface ResultsServiceOptions {
  /** Scratch directory (Azurite's working directory); a temporary one, removed on close, by default. */
  root?: string
  /** Artifacts allowed per job (real service: 500). */
  maxArtifactsPerJob?: number
  /** Default and maximum artifact retention in days (real: 90, or the repository's setting). */
  retentionDays?: number
  /** Clock used for created/expires/access times; default `() => new Date()`. */
  now?: () => Date
}

/** A running results service; see {@link startResultsService}. */
export interface ResultsService {
  /** `http://127.0.0.1:<port>/`: the value of ACTIONS_RESULTS_URL. */
  readonly url: string
  /** The Azurite blob store behind the signed URLs (to inspect blobs and block lists). */
  readonly blobs: BlobStore
  /** An unsigned JWT whose `scp` holds `Actions.Results:<runId>:<jobId>` (ACTIONS_RUNTIME_TOKEN). */
  runtimeToken(runId: string | number, jobId: string, options?: RuntimeTokenOptions): string
  /** Every environment variable the toolkit clients need for one job of one run. */
  env(options?: RunEnvOptions): Record<string, string>
  /** Finalized artifacts, oldest first (expired ones included). */
  readonly artifacts: ArtifactRecord[]
  /** The GITHUB_REPOSITORY that `env()` gave a run: GitHub's REST API lists its artifacts there. */
  repositoryOf(runId: string | number): string | undefined
  /** A read-only signed URL for a finalized artifact's zip, good for `ttlMs` (default 6 h). */
  downloadUrl(artifactId: number, ttlMs?: number): string | undefined
  /** The service's clock (the `now` option): artifacts expire by it. */
  now(): Date
  /** Finalized cache entries, oldest first. */
  readonly cacheEntries: CacheEntryRecord[]
  /** Every Twirp call answered so far, in order. */
  readonly requests: RequestRecord[]
  /** Answers the next `count` (default 1) matching calls with an error instead of handling them. */
  failNext(fault: FaultSpec): void
  /** Drops pending faults and the request log. */
  reset(): void
  /** Deletes cache entries with this key (and version), as eviction would; returns how many. */
  evictCache(key: string, version?: string): Promise<number>
  /** Stops the HTTP server and Azurite and removes the scratch directory it created. */
  close(): Promise<void>
}

/**
 * Starts the Twirp JSON service on 127.0.0.1 (ephemeral port) and Azurite behind it.
 * Signed URLs are path style: `http://127.0.0.1:<azurite>/devstoreaccount1/<container>/<blob>?<SAS>`.
 */
export async function startResultsService(
  options: ResultsServiceOptions = {}
): Promise<ResultsService> {
  const ownRoot = options.root === undefined
  const root = options.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'results-service-'))
  fs.mkdirSync(root, { recursive: true })
  const now = options.now ?? (() => new Date())
  let lastId = 0
  const nextId = () => ++lastId

  let blobs: BlobStore
  try {
    blobs = await startAzurite({ cwd: root })
  } catch (error) {
    if (ownRoot) fs.rmSync(root, { recursive: true, force: true })
    throw error
  }
  const artifactService = createArtifactService({
    blobs,
    now,
    nextId,
    maxArtifactsPerJob: options.maxArtifactsPerJob ?? 500,
    retentionDays: options.retentionDays ?? 90
  })
  const cacheService = createCacheService({ blobs, now, nextId })
  const requests: RequestRecord[] = []
  const faults: FaultSpec[] = []
  const server = await startTwirpServer({
    services: {
      artifact: { fullName: ARTIFACT_SERVICE, handlers: artifactService.handlers },
      cache: { fullName: CACHE_SERVICE, handlers: cacheService.handlers }
    },
    log: requests,
    faults
  }).catch(async error => {
    await blobs.close()
    throw error
  })

  // A run belongs to one repository; the runtime token does not say which, the run's env does.
  const runRepositories = new Map<string, string>()
  let closing: Promise<void> | undefined
  return {
    url: server.url,
    blobs,
    runtimeToken: (runId, jobId, tokenOptions) => makeRuntimeToken(runId, jobId, tokenOptions),
    env(envOptions = {}) {
      const token = makeRuntimeToken(envOptions.runId ?? 1, envOptions.jobId ?? 'backup')
      const env = buildRunEnv(server.url, token, envOptions)
      runRepositories.set(env.GITHUB_RUN_ID, env.GITHUB_REPOSITORY)
      return env
    },
    get artifacts() {
      return artifactService.artifacts()
    },
    repositoryOf: runId => runRepositories.get(String(runId)),
    downloadUrl: (artifactId, ttlMs) => artifactService.downloadUrl(artifactId, ttlMs),
    now,
    get cacheEntries() {
      return cacheService.entries()
    },
    requests,
    failNext(fault) {
      if (fault.status < 400 || fault.status > 599)
        throw new Error('failNext needs a 4xx/5xx status')
      faults.push({ ...fault })
    },
    reset() {
      faults.length = 0
      requests.length = 0
    },
    evictCache: (key, version) => cacheService.remove(key, version),
    close() {
      closing ??= (async () => {
        await server.close()
        await blobs.close()
        if (ownRoot) fs.rmSync(root, { recursive: true, force: true })
      })()
      return closing
    }
  }
}
