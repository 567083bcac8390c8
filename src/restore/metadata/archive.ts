// The metadata archive as a restore reads it: one commit of refs/backup/metadata (the newest at or
// before `at`), its files listed once, JSON read in one `cat-file --batch`, bytes streamed to a file.
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Git } from '../../git/git.js'

export interface ArchiveSnapshot {
  commit: string
  /** Every file of the commit, by path. */
  has(file: string): boolean
  paths(prefix: string): string[]
  /** Parsed JSON of each file that exists, by path. */
  readJson<T>(files: string[]): Promise<Map<string, T>>
  /** Streams a file's bytes to `target`: its size and SHA-256. */
  saveFile(file: string, target: string): Promise<{ size: number; sha256: string }>
}

/**
 * The archive commit to restore from: the newest commit of the archive whose tip is `tip` made at
 * or before `at` (each backup run that changed the archive made one), or the tip itself. Undefined
 * when the backup has no archive (no tip) or none as old as `at`.
 */
export async function findArchiveCommit(
  git: Git,
  gitDir: string,
  tip: string | undefined,
  at?: Date
): Promise<string | undefined> {
  if (!tip || !at) return tip
  const log = await git.run(['log', '--format=%H %ct', tip], { cwd: gitDir })
  for (const line of log.split('\n').filter(Boolean)) {
    const [commit, seconds] = line.split(' ')
    if (Number(seconds) * 1000 <= at.getTime()) return commit
  }
  return undefined
}

export async function openArchiveCommit(
  git: Git,
  gitDir: string,
  commit: string
): Promise<ArchiveSnapshot> {
  const blobs = new Map<string, string>()
  const listing = await git.run(['ls-tree', '-r', '-z', '--full-tree', commit], { cwd: gitDir })
  for (const record of listing.split('\0').filter(Boolean)) {
    const tab = record.indexOf('\t')
    blobs.set(record.slice(tab + 1), record.slice(0, tab).split(' ')[2])
  }
  return {
    commit,
    has: file => blobs.has(file),
    paths: prefix => [...blobs.keys()].filter(file => file.startsWith(prefix)).sort(),
    async readJson<T>(files: string[]) {
      const known = files.filter(file => blobs.has(file))
      const read = new Map<string, T>()
      if (known.length === 0) return read
      const { stdoutBytes: out } = await git.exec(['cat-file', '--batch'], {
        cwd: gitDir,
        input: `${known.map(file => blobs.get(file)).join('\n')}\n`
      })
      let offset = 0
      for (const file of known) {
        const end = out.indexOf(10, offset)
        const size = Number(out.subarray(offset, end).toString().split(' ')[2])
        read.set(file, JSON.parse(out.subarray(end + 1, end + 1 + size).toString('utf8')) as T)
        offset = end + 1 + size + 1
      }
      return read
    },
    async saveFile(file, target) {
      const oid = blobs.get(file)
      if (!oid) throw new Error(`the archive has no ${file}`)
      const hash = createHash('sha256')
      let size = 0
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk)
          size += chunk.length
          done(null, chunk)
        }
      })
      const cat = await git.open(['cat-file', 'blob', oid], { cwd: gitDir })
      cat.stdin.end()
      await Promise.all([pipeline(cat.stdout, count, createWriteStream(target)), cat.exited])
      return { size, sha256: hash.digest('hex') }
    }
  }
}
