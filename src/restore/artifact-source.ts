// The restore action's artifact source: find the index of the newest backup run (or of a given run),
// read where each selected repository's newest copy lives, and download just those artifacts.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { request } from '@octokit/request'
import { decryptFile, ENCRYPTED_SUFFIX, identitiesFor } from '../targets/artifact/encryption.js'
import { INDEX_ARTIFACT } from '../targets/artifact/names.js'
import type { DecryptionKeys } from '../targets/artifact/restore.js'

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

interface ListedArtifact {
  id: number
  name: string
  expired: boolean
  workflow_run?: { id?: number }
}

/** The index artifact to read: of the given run (its last attempt), or the newest of all runs. */
async function findIndex(options: ArtifactSourceOptions): Promise<{ id: number; runId: number }> {
  const [owner, repo] = options.repository.split('/')
  const send = request.defaults({
    baseUrl: options.apiUrl,
    headers: { authorization: `token ${options.token}`, 'x-github-api-version': '2022-11-28' }
  })
  // Within one run the last attempt's index (the highest id) is the complete one; a run lists its
  // artifacts in no promised order (oldest first, cli/cli#12437), so every page of it is read.
  let lastAttempt: ListedArtifact | undefined
  for (let page = 1; options.runId || page <= 20; page++) {
    const route = options.runId
      ? 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts'
      : 'GET /repos/{owner}/{repo}/actions/artifacts'
    const response = await send(route, {
      owner,
      repo,
      run_id: options.runId,
      per_page: 100,
      page
    }).catch((error: unknown) => {
      // GitHub answers 404 alike for a missing run or repository and for a token that may not read it.
      if ((error as { status?: number }).status !== 404) throw error
      throw new Error(
        `${options.runId ? `run ${options.runId} of ` : ''}${options.repository} was not found, or github-token may not read its artifacts (it needs actions: read)`
      )
    })
    const { artifacts, total_count } = response.data as {
      artifacts: ListedArtifact[]
      total_count: number
    }
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
    options.runId
      ? `run ${options.runId} of ${options.repository} has no ${INDEX_ARTIFACT} artifact (expired, or not a backup run)`
      : `${options.repository} has no unexpired ${INDEX_ARTIFACT} artifact: has a backup run with target: artifact finished?`
  )
}

interface IndexFile {
  repositories?: IndexEntry[]
  /** Written by the index job of a sharded matrix: each shard's own index. */
  shards?: { name: string; id: number; runId: string }[]
}

async function readIndex(dir: string, keys: DecryptionKeys): Promise<IndexFile> {
  let file = path.join(dir, 'index.json')
  if (!(await fs.stat(file).catch(() => undefined))) {
    const identities = await identitiesFor(dir, keys)
    if (identities.length === 0) {
      throw new Error(
        'the backup index is encrypted: give encryption-passphrase or encryption-identity'
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
  const { DefaultArtifactClient } = await import('@actions/artifact')
  const client = new DefaultArtifactClient()
  const [repositoryOwner, repositoryName] = options.repository.split('/')
  const findBy = (workflowRunId: number) => ({
    token: options.token,
    workflowRunId,
    repositoryOwner,
    repositoryName
  })
  const index = await findIndex(options)
  const indexDir = path.join(options.dir, '.index')
  await client.downloadArtifact(index.id, { path: indexDir, findBy: findBy(index.runId) })
  options.log(`Read the backup index of run ${index.runId}.`)
  const top = await readIndex(indexDir, options.keys)
  const entries = [...(top.repositories ?? [])]
  for (const shard of top.shards ?? []) {
    const shardDir = path.join(indexDir, shard.name)
    await client.downloadArtifact(shard.id, { path: shardDir, findBy: findBy(Number(shard.runId)) })
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
      await client.downloadArtifact(id, {
        path: path.join(options.dir, artifact.name),
        findBy: findBy(artifact.runId)
      })
      options.log(`Downloaded ${artifact.name} (run ${artifact.runId}).`)
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]
      const detail = `artifact ${artifact.name} of run ${artifact.runId} could not be downloaded: ${reason}`
      unavailable.push(...artifact.repositories.map(repository => ({ repository, detail })))
    }
  }
  await fs.rm(indexDir, { recursive: true, force: true })
  return { dir: options.dir, unavailable }
}
