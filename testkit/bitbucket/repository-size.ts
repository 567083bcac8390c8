// A repository's `size` as Bitbucket Cloud reports it: the bytes of its git storage (packs and loose
// objects under objects/; Git LFS objects are not counted). A listing asks for up to 100 repositories a
// page, so a measurement is kept with a fingerprint of objects/ and its subdirectories and reused while
// that holds: git writes every object or pack by renaming a file into one of them, which changes the
// directory's mtime, whether a push, fast-import, repack or prune did it, in this process or another.
import * as fs from 'node:fs'
import * as path from 'node:path'

/**
 * File times advance in timer ticks, so a directory written this recently may change again without a
 * new mtime: such a measurement is answered but not kept.
 */
const SETTLED_MS = 2000

interface Entry {
  /** objects/ itself: while it holds, the list of its subdirectories does too. */
  objectsStamp: string
  subdirs: string[]
  fingerprint: string
  bytes: number
}

export interface RepositorySizes {
  /** Bytes of the git objects of the bare repository at `gitDir`; 0 when it has none. */
  sizeOf(gitDir: string): number
  /** How many times objects were counted file by file, for tests that check reuse. */
  readonly walks: number
}

const stamp = (stat: fs.Stats) => `${stat.ino}:${stat.mtimeMs}`

/** Bytes of every file below `dir`; a file that vanishes meanwhile (a repack) counts as gone. */
function bytesBelow(dir: string): number {
  let total = 0
  let entries: fs.Dirent[]
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) total += bytesBelow(full)
    else if (entry.isFile()) total += fs.statSync(full, { throwIfNoEntry: false })?.size ?? 0
  }
  return total
}

function subdirsOf(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter(entry => entry.isDirectory())
      .map(entry => entry.name)
  } catch {
    return []
  }
}

export function createRepositorySizes(): RepositorySizes {
  const entries = new Map<string, Entry>()
  let walks = 0
  return {
    get walks() {
      return walks
    },
    sizeOf(gitDir) {
      const objects = path.join(gitDir, 'objects')
      const top = fs.statSync(objects, { throwIfNoEntry: false })
      if (!top) return 0
      const known = entries.get(gitDir)
      const objectsStamp = stamp(top)
      const subdirs = known?.objectsStamp === objectsStamp ? known.subdirs : subdirsOf(objects)
      // Taken before counting: a write racing with the count leaves a fingerprint the next call misses.
      let newest = top.mtimeMs
      const parts = [objectsStamp]
      for (const name of subdirs) {
        const stat = fs.statSync(path.join(objects, name), { throwIfNoEntry: false })
        parts.push(`${name}=${stat ? stamp(stat) : '-'}`)
        if (stat && stat.mtimeMs > newest) newest = stat.mtimeMs
      }
      const fingerprint = parts.join('\n')
      if (known?.fingerprint === fingerprint) return known.bytes
      walks++
      const bytes = bytesBelow(objects)
      if (newest < Date.now() - SETTLED_MS)
        entries.set(gitDir, { objectsStamp, subdirs, fingerprint, bytes })
      else entries.delete(gitDir)
      return bytes
    }
  }
}
