// The disk as a budget: work waits while free space cannot cover it, a repository that cannot fit
// even alone is refused, and the peak the run used is measured.
import { describe, expect, it } from '@jest/globals'
import { createDiskGate, NoRoomError } from './disk.js'

const MB = 1024 * 1024

/** A filesystem of `total` bytes whose free space the test moves by hand. */
function fakeDisk(total: number) {
  const disk = { free: total, total }
  return { disk, space: async () => ({ ...disk }) }
}

const tick = () => new Promise(resolve => setTimeout(resolve, 5))

describe('the disk gate', () => {
  it('admits work while it fits and makes the next wait until a job in flight releases', async () => {
    const { disk, space } = fakeDisk(1000 * MB)
    const gate = await createDiskGate({ dirs: ['/'], space, pollMs: 5 })
    const margin = 20 * MB // kept free on a disk of 1000 MB: 2 %
    const first = await gate.admit(600 * MB, 'first')
    let second = false
    const waiting = gate.admit(600 * MB, 'second').then(reservation => {
      second = true
      return reservation
    })
    await tick()
    await tick()
    expect(second).toBe(false)
    disk.free -= 300 * MB // the first job writes; still not room for the second beside it
    await tick()
    expect(second).toBe(false)
    disk.free += 300 * MB // it finished and cleaned up
    first.release()
    const reservation = await waiting
    expect(second).toBe(true)
    expect(reservation.full).toBe(true)
    expect(gate.freeAtStart - margin).toBeGreaterThan(600 * MB)
    gate.close()
  })

  it('refuses, in one line, work that cannot fit even alone, after asking for disk to be freed', async () => {
    const { space } = fakeDisk(100 * MB)
    let relieved = 0
    const gate = await createDiskGate({
      dirs: ['/'],
      space,
      pollMs: 5,
      relieve: async () => void relieved++
    })
    const refused = gate.admit(500 * MB, 'acme/huge (500 MB on Bitbucket)')
    await expect(refused).rejects.toThrow(NoRoomError)
    await expect(gate.admit(500 * MB, 'acme/huge')).rejects.toThrow(
      /^needs about 524\.3 MB of disk for acme\/huge, but the runner has .* free; use a runner with more disk .*exclude/
    )
    expect(relieved).toBe(2)
    gate.close()
  })

  it('grants the minimum (the optional cache archive left out) when only that fits alone', async () => {
    const { space } = fakeDisk(100 * MB)
    const gate = await createDiskGate({ dirs: ['/'], space, pollMs: 5 })
    const reservation = await gate.admit(150 * MB, 'big', 60 * MB)
    expect(reservation.full).toBe(false)
    reservation.release()
    gate.close()
  })

  it('lets the oldest job grow when every job in flight waits to grow (no deadlock)', async () => {
    const { space } = fakeDisk(1000 * MB)
    const gate = await createDiskGate({ dirs: ['/'], space, pollMs: 5 })
    const a = await gate.admit(400 * MB, 'a')
    const b = await gate.admit(400 * MB, 'b')
    // Both learn of LFS objects, 300 MB more each: only one can have them at a time.
    let grownB = false
    const growB = b.grow(300 * MB, 'b LFS').then(() => void (grownB = true))
    await tick()
    await a.grow(300 * MB, 'a LFS')
    await tick()
    expect(grownB).toBe(false)
    a.release()
    await growB
    expect(grownB).toBe(true)
    b.release()
    gate.close()
  })

  it("counts a job's own unwritten reservation as room for its cache archive, not against it", async () => {
    const { disk, space } = fakeDisk(100 * MB)
    const gate = await createDiskGate({ dirs: ['/'], space, pollMs: 5 })
    const a = await gate.admit(60 * MB, 'a: a 30 MB mirror and room for its archive')
    const b = await gate.admit(30 * MB, 'b')
    disk.free -= 30 * MB // a's mirror is written
    a.written(30 * MB)
    // The gate alone sees a's reserved archive as someone else's; a knows it is its own.
    expect(await gate.roomFor(30 * MB)).toBe(false)
    expect(await a.roomFor(30 * MB)).toBe(true)
    // Beyond its reservation, only what is free beside b's counts (70 - 2 margin - 30 = 38 MB).
    expect(await a.roomFor(38 * MB)).toBe(true)
    expect(await a.roomFor(39 * MB)).toBe(false)
    a.release()
    b.release()
    gate.close()
  })

  it('says, when it refuses the oldest while others hold disk, when they have all finished', async () => {
    const { disk, space } = fakeDisk(1000 * MB)
    const gate = await createDiskGate({ dirs: ['/'], space, pollMs: 5 })
    const a = await gate.admit(400 * MB, 'a')
    const b = await gate.admit(400 * MB, 'b')
    disk.free -= 800 * MB // both wrote their git data
    a.written(400 * MB)
    b.written(400 * MB)
    const growB = b.grow(300 * MB, 'b LFS').catch((error: unknown) => error)
    const refusal = await a.grow(300 * MB, 'a LFS').catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(NoRoomError)
    let othersDone = false
    void (refusal as NoRoomError).othersDone!.then(() => (othersDone = true))
    disk.free += 400 * MB // a gave up: its files are removed
    a.release()
    await growB
    await tick()
    expect(othersDone).toBe(false)
    b.release()
    await tick()
    expect(othersDone).toBe(true)
    // Refused alone, it would not fit whatever finishes: nothing to wait for.
    const alone = await gate.admit(2000 * MB, 'huge').catch((error: unknown) => error)
    expect((alone as NoRoomError).othersDone).toBeUndefined()
    gate.close()
  })

  it('measures the peak used from the first sample', async () => {
    const { disk, space } = fakeDisk(1000 * MB)
    const gate = await createDiskGate({ dirs: ['/'], space, pollMs: 5 })
    disk.free -= 250 * MB
    await gate.sample()
    disk.free += 200 * MB
    await gate.sample()
    expect(gate.peakUsedBytes).toBe(250 * MB)
    gate.close()
  })
})
