// The metadata archive on a GitHub mirror: pushed as its own ref when every file in it fits the
// server's file limit; a Download over it would refuse the whole push (GH001), so then the archive
// stays out and only its Downloads reach GitHub, as release assets (downloads-release.ts).
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
): Promise<string | undefined> {
  const archive = plan.updates.find(update => update.ref === METADATA_REF && update.oid)
  if (!archive?.oid) return undefined
  const oversized = await findOversizedFiles(git, mirror, [archive.oid], plan.known, maxFileBytes)
  if (oversized.length === 0) return undefined
  plan.updates.splice(plan.updates.indexOf(archive), 1)
  const files = oversized.map(file => file.path).join(', ')
  const line = `metadata archive (${METADATA_REF}) not pushed: ${files} is over ${(maxFileBytes / 1e6).toFixed(0)} MB (github-file-size-limit); its Downloads go to the release "Bitbucket Downloads", the rest of it (pull requests, settings) only to the artifact and backup-dir targets`
  log(line)
  return line
}
