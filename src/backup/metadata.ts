// A repository whose git is unchanged but whose metadata changed still needs its mirror: the check's
// verdict is turned into a transfer that only brings the mirror back (from disk or the mirror cache).
import type { MetadataPlan } from '../metadata/service.js'
import { pathExists } from '../shared/fs.js'
import type { RepositoryCheck, RepositoryJob } from './repository.js'

export async function withMetadata(
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
