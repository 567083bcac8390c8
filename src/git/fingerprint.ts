// The change signal: a SHA-256 over every ref and the object it names, equal for remote and mirror.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { pathExists } from '../shared/fs.js'

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

const OID_LINE = /^([0-9a-f]{40}|[0-9a-f]{64})\n?$/
const PACKED_LINE = /^([0-9a-f]{40}|[0-9a-f]{64}) (refs\/\S+)$/

/** Loose ref files under `dir` (`refs/...` names), or undefined when one is not a plain object name. */
async function looseRefs(gitDir: string, dir: string, into: Map<string, string>): Promise<boolean> {
  const entries = await fs.readdir(path.join(gitDir, dir), { withFileTypes: true })
  for (const entry of entries) {
    const name = `${dir}/${entry.name}`
    if (entry.isDirectory()) {
      if (!(await looseRefs(gitDir, name, into))) return false
      continue
    }
    // Lock files (a ref being written), symbolic refs, odd names and anything else: ask git.
    if (!entry.isFile() || entry.name.startsWith('.') || entry.name.endsWith('.lock')) return false
    if (name.includes('\uFFFD')) return false
    const match = OID_LINE.exec(await fs.readFile(path.join(gitDir, name), 'utf8'))
    if (!match) return false
    into.set(name, match[1])
  }
  return true
}

/**
 * A repository's refs (name → object name, as `git for-each-ref` prints them) read from the files
 * git keeps them in, without starting git: `packed-refs`, then loose files under `refs/` on top.
 * Undefined whenever the layout is anything but plain (reftable, a symbolic ref, a lock file, an
 * unreadable line), so the caller asks git instead. Unlike for-each-ref it does not check that each
 * tip object exists: that is the full verification's job (`git fsck`).
 */
export async function readRefFiles(gitDir: string): Promise<Map<string, string> | undefined> {
  try {
    if (await pathExists(path.join(gitDir, 'reftable'))) return undefined
    const refs = new Map<string, string>()
    const packed = await fs.readFile(path.join(gitDir, 'packed-refs'), 'utf8').catch(error => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
      throw error
    })
    for (const line of packed.split('\n')) {
      if (line === '' || line.startsWith('#') || /^\^[0-9a-f]+$/.test(line)) continue
      const match = PACKED_LINE.exec(line)
      if (!match) return undefined
      refs.set(match[2], match[1])
    }
    const loose = new Map<string, string>()
    if (!(await looseRefs(gitDir, 'refs', loose))) return undefined
    for (const [name, oid] of loose) refs.set(name, oid)
    return refs
  } catch {
    return undefined
  }
}
