// A small filesystem (a tmpfs of a chosen size) to play a GitHub runner with little free disk: tests
// fill it, watch its peak use while the action runs, and see what ENOSPC does to a backup.
import { execFile } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

export interface SmallDisk {
  /** The mount point: a fresh directory, empty at first. */
  dir: string
  sizeBytes: number
  freeBytes(): Promise<number>
  usedBytes(): Promise<number>
  /** Samples the used bytes every `intervalMs` until stop(), which takes a last sample. */
  startSampling(intervalMs?: number): { stop(): Promise<{ peakUsedBytes: number }> }
  /** Unmounts (lazily when the mount is busy) and removes the directory. */
  unmount(): Promise<void>
}

function run(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise(resolve =>
    execFile(command, args, (error, _stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) || 1 : 0, stderr: String(stderr).trim() })
    )
  )
}

async function usage(dir: string): Promise<{ size: number; free: number; used: number }> {
  const stats = await fs.statfs(dir)
  return {
    size: stats.blocks * stats.bsize,
    free: stats.bavail * stats.bsize,
    used: (stats.blocks - stats.bfree) * stats.bsize
  }
}

/** Mounts a tmpfs of `sizeMb` MiB, or says in one line why it cannot (so a test can skip). */
export async function mountSmallDisk(sizeMb: number): Promise<SmallDisk | { skip: string }> {
  // tmpfs reads size=0 as "no limit": refuse it rather than hand out an unbounded disk.
  if (!Number.isInteger(sizeMb) || sizeMb < 1)
    throw new Error(`mountSmallDisk: sizeMb must be a whole number of MiB, at least 1 (${sizeMb})`)
  const uid = process.getuid?.()
  if (uid !== 0)
    return {
      skip: `small-disk tests skipped: mounting a tmpfs needs root (uid ${uid ?? 'unknown'})`
    }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'small-disk-'))
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir])
  if (mounted.code !== 0) {
    await fs.rmdir(dir)
    const why = mounted.stderr.split('\n')[0] || `exit code ${mounted.code}`
    return { skip: `small-disk tests skipped: mount -t tmpfs was refused (${why})` }
  }
  const { size } = await usage(dir)
  return {
    dir,
    sizeBytes: size,
    freeBytes: async () => (await usage(dir)).free,
    usedBytes: async () => (await usage(dir)).used,
    startSampling(intervalMs = 50) {
      let peak = 0
      const sample = async () => {
        peak = Math.max(peak, (await usage(dir)).used)
      }
      const first = sample()
      const timer = setInterval(() => void sample().catch(() => undefined), intervalMs)
      return {
        async stop() {
          clearInterval(timer)
          await first
          await sample()
          return { peakUsedBytes: peak }
        }
      }
    },
    async unmount() {
      if ((await run('umount', [dir])).code !== 0) {
        // Busy (a process still has a file open there): detach now, freed when the last user goes.
        const lazy = await run('umount', ['-l', dir])
        if (lazy.code !== 0) throw new Error(`small disk ${dir}: umount -l failed: ${lazy.stderr}`)
      }
      await fs.rmdir(dir)
    }
  }
}
