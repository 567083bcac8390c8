// The restore action's artifact source: find the index of the newest backup run (or of a given run),
// read where each selected repository's newest copy lives, and download just those artifacts. Every
// GitHub request goes through the one REST client with retries; the zips stream from the blob host.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { createGitHubApi, GitHubApiError, type GitHubApi } from '../github/api.js'
import { messageOf } from '../shared/errors.js'
import { retryDelay, sleep } from '../shared/retry.js'
import { decryptFile, ENCRYPTED_SUFFIX, identitiesFor } from '../targets/artifact/encryption.js'
import { INDEX_ARTIFACT } from '../targets/artifact/names.js'
import type { DecryptionKeys } from '../targets/artifact/restore.js'
import { pathExists } from '../shared/fs.js'
import { coded } from '../shared/codes.js'

export interface ArtifactSourceOptions {
  token: string
  /** owner/name of the repository whose workflow made the backups. */
  repository: string
  apiUrl: string
  /** A backup run's id, or undefined for the newest run that uploaded an index. */
  runId?: number
  select(slug: string): boolean
  keys: DecryptionKeys
  dir: string
  log(line: string): void
}

interface IndexEntry {
  workspace: string
  slug: string
  artifact: { name: string; id: number; runId: string } | null
}

const INDEX_NAME = new RegExp(`^${INDEX_ARTIFACT}(-attempt-\\d+)?$`)
/** Tries of one zip download, each from a fresh URL (GitHub's lasts a minute). */
const DOWNLOAD_ATTEMPTS = 3

/** The index artifact to read: of the given run (its last attempt), or the newest of all runs. */
async function findIndex(
  api: GitHubApi,
  options: ArtifactSourceOptions
): Promise<{ id: number; runId: number }> {
  // Within one run the last attempt's index (the highest id) is the complete one; a run lists its
  // artifacts in no promised order (oldest first, cli/cli#12437), so every page of it is read.
  let lastAttempt: { id: number } | undefined
  for (let page = 1; options.runId || page <= 20; page++) {
    const listed = await api.listArtifacts(options.repository, page, options.runId)
    // GitHub answers 404 alike for a missing run or repository and for a token that may not read it.
    if (!listed) {
      throw new Error(
        coded(
          'RS007',
          `${options.runId ? `run ${options.runId} of ` : ''}${options.repository} was not found, or github-token may not read its artifacts (it needs actions: read)`
        )
      )
    }
    const { artifacts, total_count } = listed
    const indexes = artifacts.filter(
      artifact => INDEX_NAME.test(artifact.name) && !artifact.expired
    )
    // A repository lists its artifacts newest first: the first index is the newest backup's.
    if (!options.runId && indexes[0])
      return { id: indexes[0].id, runId: indexes[0].workflow_run?.id ?? 0 }
    for (const index of indexes) if (!lastAttempt || index.id > lastAttempt.id) lastAttempt = index
    if (artifacts.length < 100 || page * 100 >= total_count) break
  }
  if (lastAttempt && options.runId) return { id: lastAttempt.id, runId: options.runId }
  throw new Error(
    coded(
      'RS007',
      options.runId
        ? `run ${options.runId} of ${options.repository} has no ${INDEX_ARTIFACT} artifact (expired, or not a backup run)`
        : `${options.repository} has no unexpired ${INDEX_ARTIFACT} artifact: has a backup run with target: artifact finished?`
    )
  )
}

/** Streams the zip from where GitHub redirects into `dir`, unpacked; a broken stream starts over. */
async function downloadArtifact(
  api: GitHubApi,
  options: ArtifactSourceOptions,
  artifactId: number,
  dir: string
): Promise<void> {
  const { default: unzip } = await import('unzip-stream')
  for (let attempt = 1; ; attempt++) {
    const url = await api.artifactDownloadUrl(options.repository, artifactId)
    try {
      const response = await fetch(url)
      if (!response.ok || !response.body)
        throw new Error(`the blob store answered HTTP ${response.status}`)
      await fs.rm(dir, { recursive: true, force: true })
      await fs.mkdir(dir, { recursive: true })
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
      // The extractor says it is done with 'close', once every file is written.
      await new Promise<void>((resolve, reject) => {
        const extract = unzip.Extract({ path: dir }).on('close', resolve).on('error', reject)
        body.on('error', reject).pipe(extract)
      })
      return
    } catch (error) {
      if (attempt >= DOWNLOAD_ATTEMPTS) throw error
      const delay = retryDelay(attempt, { baseMs: 2000, maxMs: 16_000 })
      options.log(
        `artifact ${artifactId}: download failed (${messageOf(error)}); retry in ${Math.round(delay / 1000)} s`
      )
      await sleep(delay)
    }
  }
}

interface IndexFile {
  repositories?: IndexEntry[]
  /** Written by the index job of a sharded matrix: each shard's own index. */
  shards?: { name: string; id: number; runId: string }[]
}

async function readIndex(dir: string, keys: DecryptionKeys): Promise<IndexFile> {
  let file = path.join(dir, 'index.json')
  if (!(await pathExists(file))) {
    const identities = await identitiesFor(dir, keys)
    if (identities.length === 0) {
      throw new Error(
        coded(
          'RS003',
          'the backup index is encrypted: give encryption-passphrase or encryption-identity'
        )
      )
    }
    file = path.join(dir, 'index.plain.json')
    await decryptFile(path.join(dir, `index.json${ENCRYPTED_SUFFIX}`), file, identities)
  }
  return JSON.parse(await fs.readFile(file, 'utf8')) as IndexFile
}

/** A selected repository whose artifact could not be downloaded (expired, or refused). */
export interface UnavailableRepository {
  repository: string
  detail: string
}

/**
 * Downloads what a restore needs into `options.dir`; returns that folder for findBackups(), and the
 * repositories whose artifact could not be had: one expired artifact fails only its repositories.
 */
export async function downloadFromArtifacts(
  options: ArtifactSourceOptions
): Promise<{ dir: string; unavailable: UnavailableRepository[] }> {
  const api = createGitHubApi({ apiUrl: options.apiUrl, token: options.token, log: options.log })
  const index = await findIndex(api, options)
  const indexDir = path.join(options.dir, '.index')
  await downloadArtifact(api, options, index.id, indexDir)
  options.log(`Read the backup index of run ${index.runId}.`)
  const top = await readIndex(indexDir, options.keys)
  const entries = [...(top.repositories ?? [])]
  for (const shard of top.shards ?? []) {
    const shardDir = path.join(indexDir, shard.name)
    await downloadArtifact(api, options, shard.id, shardDir)
    entries.push(...((await readIndex(shardDir, options.keys)).repositories ?? []))
  }
  const wanted = entries.filter(entry => options.select(entry.slug))
  const artifacts = new Map<number, { name: string; runId: number; repositories: string[] }>()
  for (const entry of wanted) {
    if (!entry.artifact) {
      options.log(`${entry.workspace}/${entry.slug}: no artifact holds a copy (skipped)`)
      continue
    }
    const artifact = artifacts.get(entry.artifact.id) ?? {
      name: entry.artifact.name,
      runId: Number(entry.artifact.runId),
      repositories: []
    }
    artifact.repositories.push(`${entry.workspace}/${entry.slug}`)
    artifacts.set(entry.artifact.id, artifact)
  }
  const unavailable: UnavailableRepository[] = []
  for (const [id, artifact] of artifacts) {
    try {
      await downloadArtifact(api, options, id, path.join(options.dir, artifact.name))
      options.log(`Downloaded ${artifact.name} (run ${artifact.runId}).`)
    } catch (error) {
      // GitHub's own words (e.g. "Artifact has expired"), not the route it answered on.
      const said = error instanceof GitHubApiError ? error.githubMessage : messageOf(error)
      const detail = coded(
        'RS007',
        `artifact ${artifact.name} of run ${artifact.runId} could not be downloaded: ${said.split('\n')[0]}`
      )
      unavailable.push(...artifact.repositories.map(repository => ({ repository, detail })))
    }
  }
  await fs.rm(indexDir, { recursive: true, force: true })
  return { dir: options.dir, unavailable }
}
