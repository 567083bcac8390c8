// A repository whose git is unchanged but whose metadata changed still needs its mirror: the check's
// verdict is turned into a transfer that only brings the mirror back (from disk or the mirror cache).
import type { RestBudget } from '../bitbucket/budget.js'
import type { BitbucketClient } from '../bitbucket/client.js'
import type { BitbucketRepository } from '../bitbucket/types.js'
import { createGit } from '../git/git.js'
import { collectMetadata } from '../metadata/collect.js'
import { renderPullRequestPage } from '../metadata/page.js'
import {
  createMetadataService,
  type MetadataPlan,
  type MetadataService
} from '../metadata/service.js'
import type { RepositoryResult } from '../report/results.js'
import type { Settings } from '../settings/types.js'
import { pathExists } from '../shared/fs.js'
import type { RepositoryState } from '../state/state.js'
import { checkRepository, type RepositoryCheck, type RepositoryJob } from './repository.js'

/** The git check, then the metadata probe (which looks at Downloads whenever git changed). */
export async function checkWithMetadata(
  job: RepositoryJob,
  service: MetadataService | undefined
): Promise<{ check: RepositoryCheck; plan?: MetadataPlan }> {
  const check = await checkRepository(job)
  if (!service) return { check }
  const gitChanged = 'pending' in check && !check.pending.restoreThenCompare
  const plan = await service.probe(job.repository, job.prior, gitChanged)
  return { check: await withMetadata(check, plan, job), plan }
}

async function withMetadata(
  check: RepositoryCheck,
  plan: MetadataPlan,
  job: RepositoryJob
): Promise<RepositoryCheck> {
  if (!plan.needsMirror || !('outcome' in check)) return check
  const { outcome } = check
  if (!outcome.state || outcome.mirrorReady) return check
  if (await pathExists(job.mirror)) {
    outcome.mirrorReady = true
    return check
  }
  job.mirrorWanted = true
  return {
    pending: { started: Date.now(), mirrorPresent: false, restoreThenCompare: true, lfsOnly: false }
  }
}

/** Metadata work for the run, unless the metadata input is none. */
export function openMetadata(
  settings: Settings,
  rest: { client: BitbucketClient; budget: RestBudget } | undefined,
  signal: AbortSignal
): MetadataService | undefined {
  if (!rest || settings.metadata.kinds.length === 0) return undefined
  return createMetadataService({
    ...rest,
    apiUrl: settings.apiUrl,
    kinds: settings.metadata.kinds,
    git: createGit([], [], signal),
    renderPage: (pullRequests, repository) =>
      renderPullRequestPage({ repository, pullRequests, generatedAt: new Date().toISOString() })
  })
}

/** After the transfer, before the targets: they publish the archive with the mirror. */
export async function collectBeforeTargets(
  service: MetadataService,
  plan: MetadataPlan,
  work: {
    repository: BitbucketRepository
    mirror: string | undefined
    state: RepositoryState
    result: RepositoryResult
    log(line: string): void
  }
): Promise<void> {
  const metadata = await collectMetadata(service, plan, work)
  if (metadata) work.result.metadata = metadata
}
