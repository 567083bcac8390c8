// The change signal: a SHA-256 over every ref and the object it names, equal for remote and mirror.
import { createHash } from 'node:crypto'
import type { Git } from './git.js'

/** History kept by the backup itself, never part of upstream's refs. */
export const HISTORY_NAMESPACE = 'refs/backup/'

export interface RefSnapshot {
  fingerprint: string
  refs: number
}

/** Sorted bytewise so unicode and `+` in ref names order the same on both sides. */
export function fingerprintOf(lines: string[]): RefSnapshot {
  const refs = lines
    .map(line => line.trim().replace(/\t/, ' '))
    .filter(line => {
      const name = line.slice(line.indexOf(' ') + 1)
      return line && name !== 'HEAD' && !name.endsWith('^{}') && !name.startsWith(HISTORY_NAMESPACE)
    })
    .sort((a, b) =>
      Buffer.compare(
        Buffer.from(a.slice(a.indexOf(' ') + 1)),
        Buffer.from(b.slice(b.indexOf(' ') + 1))
      )
    )
  return {
    fingerprint: createHash('sha256').update(refs.join('\n')).digest('hex'),
    refs: refs.length
  }
}

export async function remoteFingerprint(git: Git, url: string): Promise<RefSnapshot> {
  return fingerprintOf((await git.run(['ls-remote', '--', url])).split('\n'))
}

export async function localFingerprint(git: Git, mirrorPath: string): Promise<RefSnapshot> {
  const output = await git.run(['for-each-ref', '--format=%(objectname) %(refname)'], {
    cwd: mirrorPath
  })
  return fingerprintOf(output.split('\n'))
}
