// Per clone origin: git with the credential bound to it, and Node's own reads of refs and LFS.
import { checkConcurrency } from '../shared/constants.js'
import { originBoundGitAuthorization } from '../credentials/credentials.js'
import type { BitbucketAuth } from '../credentials/types.js'
import { createGit } from '../git/git.js'
import { lfsObjectsMissingUpstream } from '../git/lfs-probe.js'
import { createMirrorOps } from '../git/mirror.js'
import { createRefAdvertisementClient, proxyConfigured } from '../git/ref-advertisement.js'
import type { Settings } from '../settings/types.js'
import type { OriginTools } from './pipeline.js'

export function createOriginTools(settings: Settings, auth: BitbucketAuth, signal: AbortSignal) {
  const byOrigin = new Map<string, OriginTools & { close(): void }>()
  const checks = checkConcurrency(settings.concurrency)
  return {
    tools(url: string): OriginTools {
      const origin = new URL(url).origin
      let tools = byOrigin.get(origin)
      if (!tools) {
        const authorization = originBoundGitAuthorization(auth, origin)
        const git = createGit(
          [{ origin, authorization: () => auth.gitAuthorization() }],
          [],
          signal
        )
        // Behind a proxy only git knows the way (Node's http ignores the proxy variables).
        const direct = !proxyConfigured()
        const refs = direct
          ? createRefAdvertisementClient({ authorization, maxSockets: checks })
          : undefined
        tools = {
          git,
          ops: (log, beforeLfsFetch) =>
            createMirrorOps(git, {
              lfs: settings.lfs,
              log,
              advertisedRefs: refs?.advertisedRefs,
              beforeLfsFetch
            }),
          missingUpstream: async (cloneUrl, objects) =>
            direct ? lfsObjectsMissingUpstream(cloneUrl, objects, { authorization }) : undefined,
          close: () => refs?.close()
        }
        byOrigin.set(origin, tools)
      }
      return tools
    },
    close() {
      for (const tools of byOrigin.values()) tools.close()
    }
  }
}
