// The Downloads release is a draft, so it has no tag. Should someone publish it on GitHub, GitHub
// tags the default branch `bitbucket-downloads`: that tag is GitHub's, not Bitbucket's, so the mirror
// push, which deletes the refs Bitbucket lacks, leaves it (deleting it would turn the release back
// into a draft). A Bitbucket tag of that name is still mirrored over it, as any other tag.
import type { MirrorPushPlan } from '../../git/push.js'
import { DOWNLOADS_RELEASE_TAG } from './downloads-release.js'

export const DOWNLOADS_RELEASE_REF = `refs/tags/${DOWNLOADS_RELEASE_TAG}`

/** Takes the deletion of the release's tag out of `plan`; whether there was one. */
export function keepReleaseTag(plan: MirrorPushPlan): boolean {
  const at = plan.updates.findIndex(update => update.ref === DOWNLOADS_RELEASE_REF && !update.oid)
  if (at < 0) return false
  plan.updates.splice(at, 1)
  return true
}
