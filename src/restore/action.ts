// The restore action (restore/action.yml): the same restore as the command line, with inputs for
// where from and where to, secrets masked as soon as they are read, and a job summary.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as core from '@actions/core'
import { DEFAULT_API_URL, DEFAULT_GITHUB_API_URL } from '../shared/constants.js'
import { createSlugFilter } from '../settings/selection.js'
import { splitList } from '../settings/parse.js'
import { downloadFromArtifacts } from './artifact-source.js'
import { cloneGitHubMirrors, GITHUB_SOURCE_PREFIX } from './github-source.js'
import { maskGitHubToken } from '../credentials/credentials.js'
import { openDestination } from './request.js'
import { restoreBackups, type RestoreOutcome } from './run.js'
import { findBackups } from './sources.js'

export const RestoreInputs = {
  From: 'from',
  RunId: 'run-id',
  Token: 'github-token',
  Repositories: 'repositories',
  To: 'to',
  ToUsername: 'to-username',
  ToPassword: 'to-password',
  BitbucketWorkspace: 'bitbucket-workspace',
  BitbucketEmail: 'bitbucket-email',
  BitbucketApiToken: 'bitbucket-api-token',
  BitbucketAccessToken: 'bitbucket-access-token',
  BitbucketApiUrl: 'bitbucket-api-url',
  GitHubOwner: 'github-owner',
  GitHubApiUrl: 'github-api-url',
  DestinationToken: 'destination-github-token',
  At: 'at',
  Overwrite: 'overwrite',
  EncryptionPassphrase: 'encryption-passphrase',
  EncryptionIdentity: 'encryption-identity'
} as const

export const RestoreOutputs = { Restored: 'restored', Failed: 'failed' } as const

function secret(name: string): string | undefined {
  const value = core.getInput(name).trim()
  if (value) core.setSecret(value)
  return value || undefined
}

export async function runRestoreAction(): Promise<void> {
  try {
    const token = secret(RestoreInputs.Token)
    if (token) maskGitHubToken(token, core.setSecret)
    const passphrase = secret(RestoreInputs.EncryptionPassphrase)
    const identityText = secret(RestoreInputs.EncryptionIdentity)
    const identities = identityText?.split(/\s+/).filter(line => line.startsWith('AGE-SECRET-KEY-'))
    for (const identity of identities ?? []) core.setSecret(identity)
    const keys = { passphrase, identities }
    const atRaw = core.getInput(RestoreInputs.At).trim()
    const at = atRaw ? new Date(atRaw) : undefined
    if (at && Number.isNaN(at.getTime())) {
      throw new Error(`Input "at": "${atRaw}" is not a time; expected e.g. 2026-11-20T00:00:00Z.`)
    }
    const runIdRaw = core.getInput(RestoreInputs.RunId).trim()
    if (runIdRaw && !/^\d+$/.test(runIdRaw)) {
      throw new Error(
        `Input "run-id": "${runIdRaw}" is not a run id; expected the number in .../actions/runs/<id>.`
      )
    }
    const selected = createSlugFilter(splitList(core.getInput(RestoreInputs.Repositories)), [])
    const githubApiUrl = core.getInput(RestoreInputs.GitHubApiUrl).trim() || DEFAULT_GITHUB_API_URL
    const destination = openDestination(
      {
        to: core.getInput(RestoreInputs.To).trim() || undefined,
        bitbucketWorkspace: core.getInput(RestoreInputs.BitbucketWorkspace).trim() || undefined,
        githubOwner: core.getInput(RestoreInputs.GitHubOwner).trim() || undefined,
        bitbucketApiUrl: core.getInput(RestoreInputs.BitbucketApiUrl).trim() || DEFAULT_API_URL,
        githubApiUrl,
        secrets: {
          bitbucketEmail: core.getInput(RestoreInputs.BitbucketEmail).trim() || undefined,
          bitbucketApiToken: secret(RestoreInputs.BitbucketApiToken),
          bitbucketAccessToken: secret(RestoreInputs.BitbucketAccessToken),
          githubToken: secret(RestoreInputs.DestinationToken),
          toUsername: core.getInput(RestoreInputs.ToUsername).trim() || undefined,
          toPassword: secret(RestoreInputs.ToPassword)
        }
      },
      line => core.info(line),
      core.setSecret
    )
    const workDir = path.join(process.env.RUNNER_TEMP || process.cwd(), 'bitbucket-restore')
    fs.mkdirSync(workDir, { recursive: true })
    const fromRaw = core.getInput(RestoreInputs.From).trim() || 'artifact'
    let from = fromRaw
    let unavailable: RestoreOutcome[] = []
    if (fromRaw === 'artifact') {
      if (!token)
        throw new Error(
          'Input "github-token": is empty; it reads the backup artifacts (actions: read).'
        )
      const downloaded = await downloadFromArtifacts({
        token,
        repository: process.env.GITHUB_REPOSITORY ?? '',
        apiUrl: process.env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL,
        runId: runIdRaw ? Number(runIdRaw) : undefined,
        select: selected,
        keys,
        dir: path.join(workDir, 'artifacts'),
        log: line => core.info(line)
      })
      from = downloaded.dir
      unavailable = downloaded.unavailable.map(missing => ({ ...missing, ok: false }))
    } else if (fromRaw.startsWith(GITHUB_SOURCE_PREFIX)) {
      const owner = fromRaw.slice(GITHUB_SOURCE_PREFIX.length).trim()
      if (!owner || !token)
        throw new Error(
          `Input "from": "${fromRaw}" needs an owner (github:my-org-mirrors) and github-token that reads its repositories.`
        )
      from = path.join(workDir, 'github')
      const cloned = await cloneGitHubMirrors({
        owner,
        apiUrl: githubApiUrl,
        token,
        select: selected,
        dir: from,
        log: line => core.info(line)
      })
      unavailable = cloned.unavailable.map(missing => ({ ...missing, ok: false }))
    } else {
      from = path.resolve(process.env.GITHUB_WORKSPACE || process.cwd(), fromRaw)
    }
    const sources = (await findBackups(from)).filter(source => selected(source.facts.slug))
    if (sources.length + unavailable.length === 0)
      throw new Error(`No backup of a selected repository was found in ${fromRaw}.`)
    core.info(`Restoring ${sources.length} repositories to ${destination.describe}`)
    const restored = await restoreBackups({
      sources,
      destination,
      at,
      overwrite: core.getInput(RestoreInputs.Overwrite).trim() === 'true',
      keys,
      workDir,
      log: line => core.info(line)
    })
    const outcomes = [...restored, ...unavailable]
    const failed = outcomes.filter(outcome => !outcome.ok)
    core.setOutput(RestoreOutputs.Restored, outcomes.length - failed.length)
    core.setOutput(RestoreOutputs.Failed, failed.length)
    await core.summary
      .addHeading('Bitbucket restore', 2)
      .addTable([
        [
          { data: 'repository', header: true },
          { data: 'outcome', header: true }
        ],
        ...outcomes.map(outcome => [
          outcome.repository,
          outcome.ok ? `✅ ${outcome.detail}` : `❌ ${outcome.detail}`
        ])
      ])
      .write()
    for (const outcome of failed) core.error(`${outcome.repository}: ${outcome.detail}`)
    if (failed.length > 0)
      core.setFailed(`${failed.length} of ${outcomes.length} repositories were not restored.`)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}
