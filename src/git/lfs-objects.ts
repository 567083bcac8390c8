// Which LFS objects a mirror's history points to, and whether each is present with the right SHA-256.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { sha256File } from '../hash.js'
import type { Git } from './git.js'

export interface LfsPointer {
  oid: string
  size: number
}

export interface LfsCheck {
  pointers: LfsPointer[]
  /** Pointers whose object is absent, of the wrong size or of the wrong SHA-256. */
  missing: LfsPointer[]
  bytes: number
}

/** The spec caps pointer files well under 1 KiB; anything larger is ordinary content. */
const MAX_POINTER_BYTES = 1024
const POINTER =
  /^version https:\/\/(?:git-lfs|hawser)\.github\.com\/spec\/v1\n(?:[^\n]*\n)*?oid sha256:([0-9a-f]{64})\n(?:[^\n]*\n)*?size (\d+)\n?/

export function parsePointer(text: string): LfsPointer | undefined {
  const match = POINTER.exec(text)
  return match ? { oid: match[1], size: Number(match[2]) } : undefined
}

/** Where git-lfs keeps an object inside a bare repository. */
export function lfsObjectPath(gitDir: string, oid: string): string {
  return path.join(gitDir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
}

/**
 * git-lfs refuses any blob without one of these words before it parses a pointer (its `matcherRE`);
 * it also trims whitespace and accepts older spec URLs, so this test is wider than `parsePointer`.
 */
const LFS_MARKERS = [Buffer.from('git-lfs'), Buffer.from('hawser'), Buffer.from('git-media')]
/** Blobs read per `cat-file --batch`: bounds what the action holds (at most 10 MB of small blobs). */
const BATCH_BLOBS = 10_000

export interface LfsScan {
  pointers: LfsPointer[]
  /** Small blobs git-lfs might read as a pointer (they name git-lfs), valid for us or not. */
  lookalikes: number
}

/** Every LFS pointer among the repository's blobs (all objects, so every ref and kept history). */
export async function scanLfsPointers(git: Git, gitDir: string): Promise<LfsScan> {
  const check = await git.run(
    ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype) %(objectsize)'],
    { cwd: gitDir }
  )
  const candidates = check
    .split('\n')
    .map(line => line.split(' '))
    .filter(([, type, size]) => {
      const bytes = Number(size)
      return type === 'blob' && bytes <= MAX_POINTER_BYTES
    })
    .map(([oid]) => oid)
  const pointers = new Map<string, LfsPointer>()
  let lookalikes = 0
  for (let start = 0; start < candidates.length; start += BATCH_BLOBS) {
    const batch = candidates.slice(start, start + BATCH_BLOBS)
    const result = await git.exec(['cat-file', '--batch'], {
      cwd: gitDir,
      input: `${batch.join('\n')}\n`
    })
    const bytes = result.stdoutBytes
    let offset = 0
    while (offset < bytes.length) {
      const headerEnd = bytes.indexOf(0x0a, offset)
      if (headerEnd < 0) break
      const [, , sizeText] = bytes.subarray(offset, headerEnd).toString('utf8').split(' ')
      const size = Number(sizeText)
      const content = bytes.subarray(headerEnd + 1, headerEnd + 1 + size)
      offset = headerEnd + 1 + size + 1
      if (!LFS_MARKERS.some(marker => content.includes(marker))) continue
      lookalikes++
      const pointer = parsePointer(content.toString('utf8'))
      if (pointer) pointers.set(pointer.oid, pointer)
    }
  }
  return {
    pointers: [...pointers.values()].sort((a, b) => a.oid.localeCompare(b.oid)),
    lookalikes
  }
}

/** Every LFS pointer among the repository's blobs (all objects, so every ref and kept history). */
export async function listLfsPointers(git: Git, gitDir: string): Promise<LfsPointer[]> {
  return (await scanLfsPointers(git, gitDir)).pointers
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
