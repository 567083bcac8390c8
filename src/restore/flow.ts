// The one restore, for the action and the command line alike: open the destination, bring the backups
// within reach (download artifacts, clone GitHub mirrors, or read a path), restore the selected ones
// and add those that could not be had. The adapters only read their inputs and report.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { RestoreRequest } from '../settings/restore.js'
import { createSlugFilter, type SlugFilter } from '../settings/selection.js'
import { downloadFromArtifacts, type UnavailableRepository } from './artifact-source.js'
import { cloneGitHubMirrors } from './github-source.js'
import { openDestination } from './request.js'
import { restoreBackups, type RestoreOutcome } from './run.js'
import { findBackups } from './sources.js'
import { coded } from '../shared/codes.js'

/** How a restore talks to whoever runs it. */
export interface RestoreIo {
  log(line: string): void
  /** Registers a secret, in every form it is sent in, for the log to hide. */
  mask(secret: string): void
  /** Where downloads, clones and staging go; the adapter creates it and decides whether it stays. */
  workDir: string
}

export interface RestoreRun {
  /** Every selected repository, in the order of the backups found, then those that could not be had. */
  outcomes: RestoreOutcome[]
  failed: RestoreOutcome[]
}

/** The request selects nothing the source holds: a usage problem, not a failed restore. */
export class NothingToRestoreError extends Error {
  override name = 'NothingToRestoreError'
}

/** The folder to find backups in, and the selected repositories the source could not give. */
async function reachBackups(
  request: RestoreRequest,
  select: SlugFilter,
  io: RestoreIo
): Promise<{ dir: string; unavailable: UnavailableRepository[] }> {
  const { source, keys } = request
  const log = io.log
  if (source.kind === 'artifact') {
    const dir = path.join(io.workDir, 'artifacts')
    return downloadFromArtifacts({ ...source, select, keys, dir, log })
  }
  if (source.kind === 'github') {
    const dir = path.join(io.workDir, 'github')
    const { owner, apiUrl, token } = source
    const cloned = await cloneGitHubMirrors({ owner, apiUrl, token, select, dir, log })
    return { dir, unavailable: cloned.unavailable }
  }
  return { dir: source.path, unavailable: [] }
}

export async function runRestore(request: RestoreRequest, io: RestoreIo): Promise<RestoreRun> {
  const destination = openDestination(request.destination, io.log, io.mask)
  const select = createSlugFilter(request.repositories, [])
  await fs.mkdir(io.workDir, { recursive: true })
  const { dir, unavailable } = await reachBackups(request, select, io)
  const sources = (await findBackups(dir)).filter(source => select(source.facts.slug))
  if (sources.length + unavailable.length === 0) {
    throw new NothingToRestoreError(
      coded('RS001', `No backup of a selected repository was found in ${request.from}.`)
    )
  }
  const atOnce = Math.min(request.concurrency, sources.length)
  io.log(
    `Restoring ${sources.length} repositories from ${request.from} to ${destination.describe}${atOnce > 1 ? `, ${atOnce} at a time` : ''}`
  )
  const restored = await restoreBackups({
    sources,
    destination,
    at: request.at,
    overwrite: request.overwrite,
    concurrency: request.concurrency,
    keys: request.keys,
    workDir: io.workDir,
    log: io.log,
    metadata: request.metadata,
    reopenPullRequests: request.reopenPullRequests
  })
  const outcomes = [...restored, ...unavailable.map(missing => ({ ...missing, ok: false }))]
  return { outcomes, failed: outcomes.filter(outcome => !outcome.ok) }
}
