// refs/backup/metadata lives in the backup's own namespace: upstream's fingerprint, the ref journal
// and point-in-time restores never count it, a restore never pushes it, the github target does.
import { describe, expect, it } from '@jest/globals'
import { fingerprintOf } from '../git/fingerprint.js'
import { refsAt } from '../git/ref-history.js'
import { isPushableRef, planRefUpdates } from '../git/refs.js'
import { METADATA_REF } from './layout.js'

const A = 'a'.repeat(40)
const M = 'b'.repeat(40)

describe('the metadata ref', () => {
  it('leaves the fingerprint of upstream refs unchanged, so a new archive is not a git change', () => {
    const upstream = [`${A}\trefs/heads/main`]
    expect(fingerprintOf([...upstream, `${M}\t${METADATA_REF}`])).toEqual(fingerprintOf(upstream))
  })

  it('is no ref of a point in time, with or without a journal', () => {
    const current = new Map([
      ['refs/heads/main', A],
      [METADATA_REF, M]
    ])
    const at = new Date('2026-12-01T00:00:00Z')
    expect([...refsAt(current, at).keys()]).toEqual(['refs/heads/main'])
    const journal = [{ at: '2026-11-01T00:00:00.000Z', set: { 'refs/heads/main': A }, deleted: [] }]
    expect([...refsAt(current, at, journal).keys()]).toEqual(['refs/heads/main'])
  })

  it('is pushed only where it is asked for (the github target), never by a restore', () => {
    expect(isPushableRef(METADATA_REF)).toBe(false)
    const local = new Map([
      ['refs/heads/main', A],
      [METADATA_REF, M],
      ['refs/backup/20261124T021700Z/heads/old', A]
    ])
    expect(planRefUpdates(local, new Map()).map(update => update.ref)).toEqual(['refs/heads/main'])
    expect(planRefUpdates(local, new Map(), [METADATA_REF]).map(update => update.ref)).toEqual([
      'refs/heads/main',
      METADATA_REF
    ])
    // A true mirror: gone from the backup, gone from the mirror too.
    expect(planRefUpdates(new Map(), new Map([[METADATA_REF, M]]), [METADATA_REF])).toEqual([
      { ref: METADATA_REF }
    ])
  })
})
