// The small disk must really be small: its size, free and used bytes from statfs, ENOSPC past its
// size, a peak seen by the sampler, an unmount that works while busy, and a clear line when it cannot mount.
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { projectRoot } from './action-runner.js'
import { mountSmallDisk, type SmallDisk } from './small-disk.js'

const MiB = 1024 * 1024
const mounted = await mountSmallDisk(8)
if ('skip' in mounted) console.warn(mounted.skip)
const disk = 'skip' in mounted ? undefined : mounted
const itMounted = disk ? it : it.skip
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

afterAll(async () => disk?.unmount())

const isMountPoint = (dir: string) =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some(l => l.split(' ')[4] === dir)

/** Runs mountSmallDisk(4) in another process, e.g. as another user; resolves to what it returned. */
function mountElsewhere(wrapper: string[]): Promise<unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'small-disk-probe-'))
  fs.chmodSync(dir, 0o755)
  const probe = path.join(dir, 'probe.mts')
  const module = path.join(projectRoot, 'testkit', 'small-disk.ts')
  fs.writeFileSync(
    probe,
    `import { mountSmallDisk } from ${JSON.stringify(module)}\n` +
      'console.log(JSON.stringify(await mountSmallDisk(4)))\n'
  )
  fs.chmodSync(probe, 0o644)
  const [command, ...args] = [...wrapper, process.execPath, '--import', 'tsx', probe]
  return new Promise((resolve, reject) =>
    execFile(command, args, { cwd: projectRoot }, (error, stdout, stderr) => {
      fs.rmSync(dir, { recursive: true, force: true })
      if (error) reject(new Error(`${command} failed: ${stderr}`))
      else resolve(JSON.parse(stdout))
    })
  )
}

describe('a small disk', () => {
  itMounted('has the size asked for, and statfs tells its free and used bytes', async () => {
    const { dir, sizeBytes } = disk!
    expect(sizeBytes).toBe(8 * MiB)
    expect(isMountPoint(dir)).toBe(true)
    expect(await disk!.usedBytes()).toBe(0)
    expect(await disk!.freeBytes()).toBe(sizeBytes)
    fs.writeFileSync(path.join(dir, 'one.bin'), Buffer.alloc(MiB, 1))
    expect(await disk!.usedBytes()).toBe(MiB)
    expect(await disk!.freeBytes()).toBe(7 * MiB)
    fs.rmSync(path.join(dir, 'one.bin'))
    expect(await disk!.usedBytes()).toBe(0)
  })

  itMounted('refuses a write past its size with ENOSPC', async () => {
    const file = path.join(disk!.dir, 'too-big.bin')
    expect(() => fs.writeFileSync(file, Buffer.alloc(9 * MiB, 2))).toThrow(
      expect.objectContaining({ code: 'ENOSPC' })
    )
    fs.rmSync(file, { force: true })
    expect(await disk!.usedBytes()).toBe(0)
  })

  itMounted('records the peak use of a file that came and went while sampling', async () => {
    const sampler = disk!.startSampling(10)
    await sleep(30)
    const file = path.join(disk!.dir, 'passing.bin')
    fs.writeFileSync(file, Buffer.alloc(3 * MiB, 3))
    // Long enough for a sample even when a loaded machine delays timers.
    await sleep(250)
    fs.rmSync(file)
    await sleep(30)
    const { peakUsedBytes } = await sampler.stop()
    expect(peakUsedBytes).toBe(3 * MiB)
    expect(await disk!.usedBytes()).toBe(0)
    expect((await disk!.startSampling().stop()).peakUsedBytes).toBe(0)
  })

  itMounted(
    'unmounts and removes its directory, lazily while a file is still open there',
    async () => {
      const other = (await mountSmallDisk(1)) as SmallDisk
      expect(other.sizeBytes).toBe(MiB)
      const handle = fs.openSync(path.join(other.dir, 'held-open'), 'w')
      try {
        await other.unmount()
        expect(isMountPoint(other.dir)).toBe(false)
        expect(fs.existsSync(other.dir)).toBe(false)
      } finally {
        fs.closeSync(handle)
      }
      const idle = (await mountSmallDisk(1)) as SmallDisk
      await idle.unmount()
      expect(fs.existsSync(idle.dir)).toBe(false)
    }
  )

  it('says in one line why it cannot mount: not root, or root without the right to mount', async () => {
    await expect(mountSmallDisk(0)).rejects.toThrow(/at least 1/)
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
    const noMount = ['setpriv', '--inh-caps=-sys_admin', '--bounding-set=-sys_admin']
    if (process.getuid?.() !== 0) {
      expect(mounted).toEqual({ skip: expect.stringMatching(/needs root \(uid \d+\)$/) })
      return
    }
    expect(await mountElsewhere(nobody)).toEqual({
      skip: 'small-disk tests skipped: mounting a tmpfs needs root (uid 65534)'
    })
    const refused = (await mountElsewhere(noMount)) as { skip: string }
    expect(refused.skip).toMatch(
      /^small-disk tests skipped: mount -t tmpfs was refused \(mount: .+\)$/
    )
    // The directory it made for the mount is gone again.
    const tried = /(\/\S+\/small-disk-\w+)/.exec(refused.skip)?.[1]
    expect(tried && fs.existsSync(tried)).toBe(false)
  })
})
