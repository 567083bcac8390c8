// Asks a repository's LFS batch API which objects it has, without a mirror and without git-lfs: an
// incomplete backup learns in one request whether a missing object has appeared upstream.

export interface LfsObjectRef {
  oid: string
  size: number
}

export interface LfsProbeOptions {
  /** The Authorization value for a request to `url`, or undefined to send none (another origin). */
  authorization(url: string): Promise<string | undefined>
  timeoutMs?: number
}

interface BatchAnswer {
  objects?: { oid?: string; actions?: { download?: unknown }; error?: { code?: number } }[]
}

/**
 * The oids Bitbucket still lacks among `objects` (an empty set: every one can be downloaded now), or
 * undefined when the answer says anything else (an error status, a redirect, an unknown shape): the
 * caller then lets git-lfs try, with its own rules and messages.
 */
export async function lfsObjectsMissingUpstream(
  cloneUrl: string,
  objects: LfsObjectRef[],
  options: LfsProbeOptions
): Promise<Set<string> | undefined> {
  const url = `${cloneUrl.replace(/\/+$/, '')}/info/lfs/objects/batch`
  const authorization = await options.authorization(url)
  try {
    const response = await fetch(url, {
      method: 'POST',
      // The credential is bound to this origin: a redirect elsewhere is not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      headers: {
        Accept: 'application/vnd.git-lfs+json',
        'Content-Type': 'application/vnd.git-lfs+json',
        ...(authorization ? { Authorization: authorization } : {})
      },
      body: JSON.stringify({ operation: 'download', transfers: ['basic'], objects })
    })
    if (response.status !== 200) {
      await response.body?.cancel()
      return undefined
    }
    const answer = (await response.json()) as BatchAnswer
    const missing = new Set<string>()
    const answered = new Set<string>()
    for (const object of answer.objects ?? []) {
      if (!object.oid) continue
      if (object.error?.code === 404) missing.add(object.oid)
      else if (!object.actions?.download) return undefined
      answered.add(object.oid)
    }
    return objects.every(object => answered.has(object.oid)) ? missing : undefined
  } catch {
    return undefined
  }
}
