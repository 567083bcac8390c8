// Point in time for a mirror: a journal of every change of upstream's refs, one line per backup run
// that changed something, and the history namespace that keeps the objects of rewritten refs alive.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { pathExists } from '../shared/fs.js'
import { HISTORY_NAMESPACE } from './fingerprint.js'
import { coded } from '../shared/codes.js'

export { HISTORY_NAMESPACE }

/** Inside the bare mirror, where git ignores it and every copy of the mirror carries it. */
export const REF_JOURNAL_FILE = 'bitbucket-backup-refs.jsonl'

export interface RefJournalEntry {
  /** ISO time of the backup run that saw these refs. */
  at: string
  set: Record<string, string>
  deleted: string[]
}

export class PointInTimeError extends Error {
  override name = 'PointInTimeError'
}

const upstreamRefs = (refs: ReadonlyMap<string, string>) =>
  [...refs].filter(([ref]) => !ref.startsWith(HISTORY_NAMESPACE))

/** Appends what changed between two ref sets; a journal's first entry holds every ref. */
export async function appendRefJournal(
  gitDir: string,
  at: Date,
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>
): Promise<void> {
  const file = path.join(gitDir, REF_JOURNAL_FILE)
  const first = !(await pathExists(file))
  const since: ReadonlyMap<string, string> = first ? new Map() : before
  const set: Record<string, string> = {}
  for (const [ref, oid] of upstreamRefs(after)) if (since.get(ref) !== oid) set[ref] = oid
  const deleted = upstreamRefs(since)
    .map(([ref]) => ref)
    .filter(ref => !after.has(ref))
  if (!first && Object.keys(set).length === 0 && deleted.length === 0) return
  const entry: RefJournalEntry = { at: at.toISOString(), set, deleted }
  await fs.appendFile(file, `${JSON.stringify(entry)}\n`)
}

export async function readRefJournal(gitDir: string): Promise<RefJournalEntry[] | undefined> {
  const text = await fs.readFile(path.join(gitDir, REF_JOURNAL_FILE), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  return text
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line) as RefJournalEntry)
}

/** `refs/backup/20261124T020000Z/heads/main`: sortable, and safe in a ref name. */
export function historyRefName(ref: string, when: Date): string {
  const stamp = when
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${HISTORY_NAMESPACE}${stamp}/${ref.replace(/^refs\//, '')}`
}

/** `refs/backup/20261124T021700Z/heads/main` → its time and the ref it kept. */
function parseHistoryRef(ref: string): { at: Date; ref: string } | undefined {
  const match = /^refs\/backup\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\/(.+)$/.exec(ref)
  if (!match) return undefined
  const [, y, mo, d, h, mi, s, rest] = match
  return { at: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`), ref: `refs/${rest}` }
}

/**
 * Upstream's refs as the backup knew them at `at`. With a journal: exactly, by replaying it. Without
 * one (older mirrors): each ref rewritten or deleted after `at` comes back to the tip kept then.
 */
export function refsAt(
  current: ReadonlyMap<string, string>,
  at: Date,
  journal?: RefJournalEntry[]
): Map<string, string> {
  if (journal && journal.length > 0) {
    if (new Date(journal[0].at) > at) {
      throw new PointInTimeError(
        coded(
          'RS008',
          `the oldest backup of this repository is from ${journal[0].at}, after ${at.toISOString()}`
        )
      )
    }
    const refs = new Map<string, string>()
    for (const entry of journal) {
      if (new Date(entry.at) > at) break
      for (const [ref, oid] of Object.entries(entry.set)) refs.set(ref, oid)
      for (const ref of entry.deleted) refs.delete(ref)
    }
    return refs
  }
  const refs = new Map(upstreamRefs(current))
  const kept = [...current.keys()]
    .map(ref => ({ name: ref, parsed: parseHistoryRef(ref) }))
    .filter(item => item.parsed && item.parsed.at > at)
    .sort((a, b) => b.parsed!.at.getTime() - a.parsed!.at.getTime())
  // Newest first, so the tip kept by the first rewrite after `at` is the one that stays.
  for (const item of kept) refs.set(item.parsed!.ref, current.get(item.name)!)
  return refs
}
