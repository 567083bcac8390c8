// What tests compare between a source and its backup: refs, and LFS objects by SHA-256.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

/** Sorted `<oid> <ref>` lines; the backup's own history namespace is left out. */
export function refsOf(gitDir: string): string[] {
  return execFileSync('git', ['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: gitDir })
    .toString()
    .split('\n')
    .filter(line => line && !line.includes(' refs/backup/'))
    .sort()
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** Where git-lfs keeps an object inside a bare repository. */
export function lfsObjectFile(gitDir: string, oid: string): string {
  return path.join(gitDir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid)
}
