// run(): settings → listing → report. Every failure ends in one core.setFailed line.
import * as core from '@actions/core'
import { createBitbucketClient, type BitbucketClient } from './bitbucket/client.js'
import type { BitbucketRepository } from './bitbucket/types.js'
import { createBitbucketAuth } from './credentials.js'
import { computeTotals, progressLine, publishReport, totalsLine } from './report.js'
import type { RepositoryResult } from './results.js'
import { createSlugFilter } from './selection.js'
import { parseSettings } from './settings.js'
import type { Settings } from './settings-types.js'

export function readSettingsFromInputs(): Settings {
  return parseSettings({ get: name => core.getInput(name), mask: core.setSecret, env: process.env })
}

/** Streams the selected repositories of every workspace, so work can start while later pages load. */
async function* selectedRepositories(
  settings: Settings,
  client: BitbucketClient
): AsyncGenerator<BitbucketRepository> {
  const matchesSlug = createSlugFilter(settings.include, settings.exclude)
  for (const workspace of settings.workspaces) {
    for await (const repository of client.listRepositories(workspace, {
      projects: settings.projects
    })) {
      if (matchesSlug(repository.slug)) yield repository
    }
  }
}

function listedResult(repository: BitbucketRepository): RepositoryResult {
  return {
    workspace: repository.workspace,
    slug: repository.slug,
    uuid: repository.uuid,
    status: 'listed',
    detail: repository.mainBranch ? `main branch ${repository.mainBranch}` : 'no commits',
    isPrivate: repository.isPrivate
  }
}

export async function run(): Promise<void> {
  const started = Date.now()
  try {
    const settings = readSettingsFromInputs()
    const auth = createBitbucketAuth(settings.credential, { oauthTokenUrl: settings.oauthTokenUrl })
    const client = createBitbucketClient({ apiUrl: settings.apiUrl, auth, log: core })
    core.info(`Listing ${settings.workspaces.join(', ')} as ${auth.description}`)

    const results: RepositoryResult[] = []
    for await (const repository of selectedRepositories(settings, client)) {
      results.push(listedResult(repository))
      core.info(progressLine(results.length, undefined, results[results.length - 1]))
    }

    const totals = computeTotals(results, (Date.now() - started) / 1000, client.requestCount)
    core.info(totalsLine(totals))
    await publishReport(results, totals, settings.reportPath, { workspaces: settings.workspaces })
    if (totals.byStatus.failed > 0) {
      core.setFailed(
        `${totals.byStatus.failed} of ${totals.repositories} repositories were not backed up; see the job summary.`
      )
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}
