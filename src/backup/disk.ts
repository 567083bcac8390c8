// The runner's disk as a budget: work in flight reserves what it will write before it starts, waits
// while the free space cannot cover it, and a repository that cannot fit even alone is refused.
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { formatBytes } from '../shared/format.js'
import { pathExists } from '../shared/fs.js'

export interface DiskSpace {
  free: number
  total: number
}

/** Free and total bytes of the filesystems holding `dirs`: the tightest one speaks for all. */
export async function diskSpace(dirs: string[]): Promise<DiskSpace> {
  let space: DiskSpace | undefined
  for (const dir of dirs) {
    const stats = await fs.statfs(await existingAncestor(dir))
    const free = stats.bavail * stats.bsize
    if (!space || free < space.free) space = { free, total: stats.blocks * stats.bsize }
  }
  return space ?? { free: Infinity, total: Infinity }
}

async function existingAncestor(dir: string): Promise<string> {
  let current = path.resolve(dir)
  while (!(await pathExists(current))) {
    const parent = path.dirname(current)
    if (parent === current) break
    current = parent
  }
  return current
}

export class NoRoomError extends Error {
  override name = 'NoRoomError'
  /**
   * Set when other work in flight held disk at the refusal: settles once all of it has released,
   * when the refused work may fit (it is not yet known not to).
   */
  othersDone?: Promise<void>
}

export interface Reservation {
  /** Reserves more (LFS objects found after the git transfer); may wait, may throw NoRoomError. */
  grow(bytes: number, what: string): Promise<void>
  /** What the job has written by now, out of what it reserved (the statfs figure already shows it). */
  written(bytes: number): void
  /** Whether `bytes` fit now: what this one reserved and has not written is its own to use. */
  roomFor(bytes: number): Promise<boolean>
  release(): void
}

export interface DiskGate {
  /**
   * Waits until `bytes` fit beside the work in flight, then holds them. When nothing else is in
   * flight and they still do not fit, tries `minimum` (the job then skips what is optional) and
   * else throws NoRoomError.
   */
  admit(bytes: number, what: string, minimum?: number): Promise<Reservation & { full: boolean }>
  /** Whether `bytes` fit now, beside everything reserved (optional work: a cache archive). */
  roomFor(bytes: number): Promise<boolean>
  /** Samples the free space; the peak the run used is measured from the first sample. */
  sample(): Promise<void>
  readonly peakUsedBytes: number
  readonly freeAtStart: number
  close(): void
}

export interface DiskGateOptions {
  dirs: string[]
  /** Frees disk held between repositories (a staged artifact group), asked before refusing one. */
  relieve?: () => Promise<void>
  /** How often free space is read while someone waits or to catch the peak (ms). */
  pollMs?: number
  space?: (dirs: string[]) => Promise<DiskSpace>
}

interface Held {
  reserved: number
  written: number
  /** Admission order: when every job in flight waits to grow, the oldest goes on. */
  order: number
  growing: boolean
  released: Promise<void>
  markReleased(): void
}

function heldEntry(order: number): Held {
  let markReleased = () => {}
  const released = new Promise<void>(resolve => (markReleased = resolve))
  return { reserved: 0, written: 0, order, growing: false, released, markReleased }
}

/** A filesystem is never filled to the last block: git, the runner and the log need some. */
function safetyMargin(total: number): number {
  return Math.min(256 * 1024 * 1024, Math.max(1024 * 1024, Math.round(total * 0.02)))
}

export async function createDiskGate(options: DiskGateOptions): Promise<DiskGate> {
  const space = options.space ?? diskSpace
  const start = await space(options.dirs)
  const margin = safetyMargin(start.total)
  const held = new Set<Held>()
  let admissions = 0
  let peak = 0
  let waiters: (() => void)[] = []
  const wake = () => {
    const woken = waiters
    waiters = []
    for (const resolve of woken) resolve()
  }
  const read = async () => {
    const now = await space(options.dirs)
    peak = Math.max(peak, start.free - now.free)
    return now.free
  }
  const outstanding = (except?: Held) =>
    [...held].reduce(
      (sum, entry) => (entry === except ? sum : sum + Math.max(0, entry.reserved - entry.written)),
      0
    )
  const sampler = setInterval(() => void read().then(wake, () => undefined), options.pollMs ?? 1000)
  sampler.unref()

  // Not unref'd: when every job waits here, this timer is all that keeps the run alive.
  const wait = () =>
    new Promise<void>(resolve => {
      const timer = setTimeout(done, options.pollMs ?? 1000)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      waiters.push(done)
    })

  function refusal(bytes: number, free: number, what: string, others: Held[]) {
    const error = new NoRoomError(
      `needs about ${formatBytes(bytes)} of disk for ${what}, but the runner has ${formatBytes(Math.max(0, free - margin))} free; use a runner with more disk (a larger or self-hosted runner), or leave it out with exclude and back it up elsewhere`
    )
    if (others.length > 0) error.othersDone = Promise.all(others.map(o => o.released)).then()
    return error
  }

  /**
   * Waits until `bytes` fit for `entry` beside what the others still hold. An entry with nobody
   * else in flight (or the oldest, when all of them wait to grow) waits for nobody: it gets `bytes`,
   * or `minimum`, or is refused.
   */
  async function fit(entry: Held, bytes: number, what: string, minimum = bytes): Promise<number> {
    let relieved = false
    for (;;) {
      const free = (await read()) - margin
      if (free - outstanding(entry) >= bytes) return bytes
      const others = [...held].filter(other => other !== entry)
      const first = others.every(other => other.growing && other.order > entry.order)
      if (others.length === 0 || (entry.growing && first)) {
        if (!relieved && options.relieve) {
          relieved = true
          await options.relieve()
          continue
        }
        // Alone, or first of all those waiting: what the others hold is not written yet.
        if (free >= minimum) return minimum
        throw refusal(bytes, free + margin, what, others)
      }
      await wait()
    }
  }

  function reservationOf(entry: Held): Reservation {
    return {
      async grow(bytes, what) {
        entry.growing = true
        try {
          const need = entry.reserved - entry.written + bytes
          entry.reserved = entry.written + (await fit(entry, need, what))
        } finally {
          entry.growing = false
        }
      },
      written(bytes) {
        entry.written = Math.min(entry.reserved, bytes)
      },
      async roomFor(bytes) {
        // What it reserved and has not written is its own (the gate kept it free); beyond that, statfs.
        if (entry.reserved - entry.written >= bytes) return true
        return (await read()) - margin - outstanding(entry) >= bytes
      },
      release() {
        held.delete(entry)
        entry.markReleased()
        wake()
      }
    }
  }

  return {
    async admit(bytes, what, minimum = bytes) {
      const entry = heldEntry(++admissions)
      const granted = await fit(entry, bytes, what, minimum)
      entry.reserved = granted
      held.add(entry)
      return { ...reservationOf(entry), full: granted >= bytes }
    },
    async roomFor(bytes) {
      return (await read()) - margin - outstanding() >= bytes
    },
    async sample() {
      await read()
    },
    get peakUsedBytes() {
      return peak
    },
    freeAtStart: start.free,
    close() {
      clearInterval(sampler)
      wake()
    }
  }
}
