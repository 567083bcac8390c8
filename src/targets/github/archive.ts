// The metadata archive on a GitHub mirror: pushed as its own ref, unless a Download in it is over
// the server's file limit, which would refuse the whole push (GH001).
import type { Git } from '../../git/git.js'
import { findOversizedFiles } from '../../git/lfs-push.js'
import type { MirrorPushPlan } from '../../git/push.js'
import { METADATA_REF } from '../../metadata/layout.js'

export async function holdBackLargeArchive(
  git: Git,
  mirror: string,
  plan: MirrorPushPlan,
  maxFileBytes: number,
  log: (line: string) => void
): Promise<void> {
  const archive = plan.updates.find(update => update.ref === METADATA_REF && update.oid)
  if (!archive?.oid) return
  const oversized = await findOversizedFiles(git, mirror, [archive.oid], plan.known, maxFileBytes)
  if (oversized.length === 0) return
  plan.updates.splice(plan.updates.indexOf(archive), 1)
  log(
    `metadata archive not pushed: it holds a Download over ${(maxFileBytes / 1e6).toFixed(0)} MB (github-file-size-limit); the other targets keep it`
  )
}
