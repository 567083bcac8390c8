// Which LFS objects a mirror's history points to, and whether each is present with the right SHA-256.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { sha256File } from '../shared/hash.js'
import type { Git } from './git.js'
import { scanLfsPointers, type LfsPointer } from './lfs-scan.js'

export interface LfsCheck {
  pointers: LfsPointer[]
  /** Pointers whose object is absent, of the wrong size or of the wrong SHA-256. */
  missing: LfsPointer[]
  bytes: number
}

/** Where git-lfs keeps an object inside a bare repository. */
export function lfsObjectPath(gitDir: string, oid: string): string {
  return path.join(gitDir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
}

/** The LFS objects a bare repository stores (git-lfs names each by its SHA-256), without a scan. */
export async function storedLfsObjects(gitDir: string): Promise<string[]> {
  const root = path.join(gitDir, 'lfs', 'objects')
  const entries = await fs.readdir(root, { withFileTypes: true, recursive: true }).catch(() => [])
  return entries
    .filter(entry => entry.isFile() && /^[0-9a-f]{64}$/.test(entry.name))
    .map(entry => entry.name)
    .sort()
}

/** Every LFS pointer among the repository's blobs (all objects, so every ref and kept history). */
export async function listLfsPointers(
  git: Git,
  gitDir: string,
  options: { reachable?: boolean | string[] } = {}
): Promise<LfsPointer[]> {
  return (await scanLfsPointers(git, gitDir, options)).pointers
}

/** Reads every object back: a restore is only as good as the bytes on disk. */
export async function checkLfsObjects(
  git: Git,
  gitDir: string,
  /** The pointers when the caller just listed them (nothing was fetched since): no second scan. */
  known?: LfsPointer[]
): Promise<LfsCheck> {
  const pointers = known ?? (await listLfsPointers(git, gitDir))
  const missing: LfsPointer[] = []
  let bytes = 0
  for (const pointer of pointers) {
    const file = lfsObjectPath(gitDir, pointer.oid)
    const stat = await fs.stat(file).catch(() => undefined)
    if (!stat || stat.size !== pointer.size || (await sha256File(file)) !== pointer.oid) {
      missing.push(pointer)
      continue
    }
    bytes += stat.size
  }
  return { pointers, missing, bytes }
}
