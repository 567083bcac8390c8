import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  appendRefJournal,
  historyRefName,
  PointInTimeError,
  readRefJournal,
  refsAt
} from './ref-history.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)
const C = 'c'.repeat(40)
const D = 'd'.repeat(40)

describe('point in time from the ref journal', () => {
  it('replays exactly what the backup saw, deletions and creations included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-journal-'))
    const day = (n: number) => new Date(`2026-11-${String(n).padStart(2, '0')}T12:00:00Z`)
    await appendRefJournal(dir, day(1), new Map(), new Map([['refs/heads/main', A]]))
    await appendRefJournal(
      dir,
      day(2),
      new Map([['refs/heads/main', A]]),
      new Map([['refs/heads/main', A]])
    )
    await appendRefJournal(
      dir,
      day(3),
      new Map([['refs/heads/main', A]]),
      new Map([
        ['refs/heads/main', B],
        ['refs/heads/topic', C],
        ['refs/backup/20261103T120000Z/heads/main', A]
      ])
    )
    await appendRefJournal(
      dir,
      day(5),
      new Map([
        ['refs/heads/main', B],
        ['refs/heads/topic', C]
      ]),
      new Map([['refs/heads/main', D]])
    )
    const journal = (await readRefJournal(dir))!
    expect(journal).toHaveLength(3)
    expect(refsAt(new Map(), day(2), journal)).toEqual(new Map([['refs/heads/main', A]]))
    expect(refsAt(new Map(), day(4), journal)).toEqual(
      new Map([
        ['refs/heads/main', B],
        ['refs/heads/topic', C]
      ])
    )
    expect(refsAt(new Map(), day(6), journal)).toEqual(new Map([['refs/heads/main', D]]))
    expect(() => refsAt(new Map(), new Date('2026-10-01T00:00:00Z'), journal)).toThrow(
      PointInTimeError
    )
  })

  it('starts a journal with every ref even when the mirror is older than journals', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-journal-'))
    const refs = new Map([
      ['refs/heads/main', A],
      ['refs/tags/v1', B]
    ])
    await appendRefJournal(dir, new Date(), refs, refs)
    expect((await readRefJournal(dir))![0].set).toEqual(Object.fromEntries(refs))
  })
})

describe('point in time from the history namespace alone', () => {
  it('brings each rewritten or deleted ref back to the tip kept by the first change after the time', () => {
    const current = new Map([
      ['refs/heads/main', D],
      ['refs/backup/20261110T000000Z/heads/main', A],
      ['refs/backup/20261120T000000Z/heads/main', B],
      ['refs/backup/20261120T000000Z/heads/gone', C]
    ])
    expect(refsAt(current, new Date('2026-11-05T00:00:00Z'))).toEqual(
      new Map([
        ['refs/heads/main', A],
        ['refs/heads/gone', C]
      ])
    )
    expect(refsAt(current, new Date('2026-11-15T00:00:00Z'))).toEqual(
      new Map([
        ['refs/heads/main', B],
        ['refs/heads/gone', C]
      ])
    )
    expect(refsAt(current, new Date('2026-11-25T00:00:00Z'))).toEqual(
      new Map([['refs/heads/main', D]])
    )
    // A kept tip stands for the ref its name gives, until the second its name gives.
    const kept = new Map([['refs/backup/20261124T021700Z/tags/v1', A]])
    expect(refsAt(kept, new Date('2026-11-24T02:16:59Z'))).toEqual(new Map([['refs/tags/v1', A]]))
    expect(refsAt(kept, new Date('2026-11-24T02:17:00Z'))).toEqual(new Map())
  })
})

describe('history ref names', () => {
  it('names history refs by UTC time without the refs/ prefix', () => {
    expect(historyRefName('refs/tags/v1', new Date('2026-01-02T03:04:05.678Z'))).toBe(
      'refs/backup/20260102T030405Z/tags/v1'
    )
  })
})
