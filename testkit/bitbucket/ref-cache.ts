// The local Bitbucket's ref advertisement cache. A hosting service does not start git on the client's
// own CPUs for every `info/refs`; Bitbucket Data Center, for one, ships a ref advertisement cache (its SCM
// Cache plugin). Here the answer is still real `git http-backend` output, kept with a fingerprint of
// everything git reads for it (HEAD, config, packed-refs, every loose ref) and reused only while that
// fingerprint holds, so a push, `update-ref`, `pack-refs` or a file written by hand is seen by the
// very next request.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'

/** Past this many loose refs the fingerprint costs about what git does: such a repository is not cached. */
const MAX_LOOSE_REFS = 512

export interface CachedAnswer {
  status: number
  headers: Record<string, string[]>
  body: Buffer
}

interface Entry extends CachedAnswer {
  fingerprint: string
}

export interface RefAdvertisementCache {
  enabled: boolean
  /** The key of a repository's advertisement and its current fingerprint, or undefined: not cacheable. */
  lookup(
    gitDir: string,
    protocol: string | undefined
  ): Promise<{ hit?: CachedAnswer; store(answer: CachedAnswer): void } | undefined>
}

const stamp = (stat: { ino: bigint; size: bigint; mtimeNs: bigint }) =>
  `${stat.ino}:${stat.size}:${stat.mtimeNs}`

/**
 * Inode, size and nanosecond mtime of each file git reads for an advertisement: git replaces a ref
 * file by renaming a lock file over it, so any update gives a new inode and time.
 */
async function fingerprintOf(gitDir: string): Promise<string | undefined> {
  const parts: string[] = []
  for (const name of ['HEAD', 'config', 'packed-refs']) {
    const stat = await fs.stat(path.join(gitDir, name), { bigint: true }).catch(() => undefined)
    parts.push(`${name}=${stat ? stamp(stat) : '-'}`)
  }
  let loose = 0
  const walk = async (relative: string): Promise<boolean> => {
    const entries = await fs.readdir(path.join(gitDir, relative), { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const child = `${relative}/${entry.name}`
      if (entry.isDirectory()) {
        parts.push(`${child}/`)
        if (!(await walk(child))) return false
        continue
      }
      if (++loose > MAX_LOOSE_REFS) return false
      parts.push(`${child}=${stamp(await fs.stat(path.join(gitDir, child), { bigint: true }))}`)
    }
    return true
  }
  try {
    if (!(await walk('refs'))) return undefined
  } catch {
    // A ref vanished mid-walk (a concurrent update): let git answer this one.
    return undefined
  }
  return parts.join('\n')
}

export function createRefAdvertisementCache(enabled: boolean): RefAdvertisementCache {
  const entries = new Map<string, Entry>()
  return {
    enabled,
    async lookup(gitDir, protocol) {
      if (!this.enabled) return undefined
      // Taken before git runs: a change racing with git leaves a fingerprint older than the answer,
      // which the next request no longer matches.
      const fingerprint = await fingerprintOf(gitDir)
      if (fingerprint === undefined) return undefined
      const key = `${gitDir}\0${protocol ?? ''}`
      const entry = entries.get(key)
      return {
        hit: entry?.fingerprint === fingerprint ? entry : undefined,
        store: answer => void entries.set(key, { ...answer, fingerprint })
      }
    }
  }
}
