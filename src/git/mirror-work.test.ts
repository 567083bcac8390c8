// Real git: the work a mirror operation leaves out (git-lfs without pointers, a second LFS scan, a
// HEAD that is already right) and the transfer settings it uses (protocol v0, packs kept).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit, type Git } from './git.js'
import { readRefFiles } from './fingerprint.js'
import { scanLfsPointers } from './lfs-scan.js'
import { createMirrorOps } from './mirror.js'

let root: string
const sh = (args: string[], cwd: string, input?: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    input
  }).toString()

/** A Git that records every argument list it runs. */
function recordingGit(): { git: Git; calls: string[][] } {
  const inner = createGit()
  const calls: string[][] = []
  return {
    calls,
    git: {
      exec: (args, options) => (calls.push(args), inner.exec(args, options)),
      run: (args, options) => (calls.push(args), inner.run(args, options)),
      lines: (args, onLine, options) => (calls.push(args), inner.lines(args, onLine, options)),
      open: (args, options) => (calls.push(args), inner.open(args, options))
    }
  }
}
const ran = (calls: string[][], command: string) =>
  calls.filter(args => args.filter(arg => !arg.includes('=') && arg !== '-c')[0] === command)

/** A bare upstream with the given files committed on main (and pushed), reachable as file://. */
function upstreamWith(name: string, files: Record<string, string | Buffer>): string {
  const work = path.join(root, `${name}-work`)
  const bare = path.join(root, `${name}.git`)
  sh(['init', '-q', '--bare', '-b', 'main', bare], root)
  sh(['init', '-q', '-b', 'main', work], root)
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true })
    fs.writeFileSync(path.join(work, file), content)
  }
  sh(['add', '-A'], work)
  sh(['commit', '-qm', 'files'], work)
  sh(['push', '-q', bare, 'main'], work)
  return bare
}

/** git-lfs reads a file:// remote's objects from its lfs/objects directory. */
function storeLfsObject(upstream: string, oid: string, content: Buffer): void {
  const dir = path.join(upstream, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4))
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, oid), content)
}

function pointerFor(content: Buffer): { oid: string; text: string } {
  const oid = createHash('sha256').update(content).digest('hex')
  return {
    oid,
    text: `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`
  }
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-mirror-work-'))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('what a mirror operation leaves out', () => {
  it('clones on protocol v0 into a pack, and runs no git-lfs when no blob looks like a pointer', async () => {
    const upstream = upstreamWith('plain', { 'a.txt': 'one\n', 'b.bin': Buffer.alloc(4096, 7) })
    const { git, calls } = recordingGit()
    const ops = createMirrorOps(git, { lfs: true })
    const mirror = path.join(root, 'backup', 'plain.git')
    const transfer = await ops.clone(`file://${upstream}`, mirror)

    const clone = ran(calls, 'clone')[0]
    expect(clone).toEqual(expect.arrayContaining(['protocol.version=0', 'fetch.unpackLimit=1']))
    expect(ran(calls, 'lfs')).toEqual([])
    expect(ran(calls, 'config')).toEqual([])
    // A handful of objects stays one pack instead of loose files.
    expect(
      fs.readdirSync(path.join(mirror, 'objects', 'pack')).some(f => f.endsWith('.pack'))
    ).toBe(true)
    expect(sh(['count-objects'], mirror)).toMatch(/^0 objects/)
    // Later fetches still never write into the backup's own namespace.
    expect(
      sh(['config', '--get-all', 'remote.origin.fetch'], mirror).trim().split('\n').sort()
    ).toEqual(['+refs/*:refs/*', '^refs/backup/*'])

    // inspect reuses the refs and the (empty) pointer list the clone saw.
    calls.length = 0
    const inspection = await ops.inspect(mirror, transfer.known)
    expect(calls).toEqual([])
    expect(inspection.refs).toBe(1)
    expect(inspection.bytes).toBe(transfer.bytesFetched)
    expect(inspection.fingerprint).toBe((await ops.remoteRefs(`file://${upstream}`)).fingerprint)
    expect(ran(calls, 'ls-remote')[0]).toContain('protocol.version=0')
  })

  it('fetches LFS when a pointer is there, and checks the objects without listing them again', async () => {
    const asset = Buffer.from('an LFS object\n')
    const pointer = pointerFor(asset)
    const upstream = upstreamWith('lfs', { 'asset.bin': pointer.text, 'a.txt': 'x\n' })
    storeLfsObject(upstream, pointer.oid, asset)

    const { git, calls } = recordingGit()
    const lines: string[] = []
    const ops = createMirrorOps(git, { lfs: true, log: line => lines.push(line) })
    const mirror = path.join(root, 'backup', 'lfs.git')
    const transfer = await ops.clone(`file://${upstream}`, mirror)
    expect(lines).toEqual([])
    expect(ran(calls, 'lfs')).toHaveLength(1)
    expect(transfer.known?.lfsPointers).toEqual([{ oid: pointer.oid, size: asset.length }])

    calls.length = 0
    const inspection = await ops.inspect(mirror, transfer.known)
    expect(ran(calls, 'cat-file')).toEqual([])
    expect(inspection.lfsObjects).toBe(1)
    expect(inspection.lfsMissing).toEqual([])
    // Without what the transfer knew, inspect lists the pointers itself and finds the same.
    const again = await ops.inspect(mirror)
    expect(ran(calls, 'cat-file').length).toBeGreaterThan(0)
    expect(again.lfsObjects).toBe(1)
  })

  it('leaves HEAD alone when it already names the branch, and moves it otherwise', async () => {
    const mirror = path.join(root, 'backup', 'plain.git')
    const { git, calls } = recordingGit()
    const ops = createMirrorOps(git, { lfs: false })
    await ops.setHead(mirror, 'refs/heads/main')
    expect(calls).toEqual([])
    await ops.setHead(mirror, 'refs/heads/develop')
    expect(ran(calls, 'symbolic-ref')).toHaveLength(1)
    expect(fs.readFileSync(path.join(mirror, 'HEAD'), 'utf8').trim()).toBe(
      'ref: refs/heads/develop'
    )
  })
})

describe('scanning for LFS pointers', () => {
  it('finds pointers, counts look-alikes git-lfs might read, and skips blobs that cannot be one', async () => {
    const pointer = pointerFor(Buffer.from('object\n'))
    const upstream = upstreamWith('scan', {
      'p.bin': pointer.text,
      // git-lfs trims whitespace before it parses, so this is a pointer to git-lfs (not to us).
      'indented.bin': `\n  ${pointerFor(Buffer.from('other\n')).text}`,
      'README.md': 'Install git-lfs before you clone.\n',
      'notes.txt': `version 2 of the release notes\n${'text '.repeat(30)}\n`,
      'big.bin': Buffer.concat([Buffer.from('git-lfs '), Buffer.alloc(5000, 1)])
    })
    const scan = await scanLfsPointers(createGit(), upstream)
    expect(scan.pointers).toEqual([{ oid: pointer.oid, size: 7 }])
    // Pointer, indented pointer and README name git-lfs; notes do not; big.bin is over 1024 bytes.
    expect(scan.lookalikes).toBe(3)
  })

  it('a look-alike alone still runs git-lfs (its parser decides, not ours)', async () => {
    const asset = Buffer.from('kept only because git-lfs reads indented pointers\n')
    const pointer = pointerFor(asset)
    const upstream = upstreamWith('lookalike', { 'asset.bin': `\n ${pointer.text}` })
    storeLfsObject(upstream, pointer.oid, asset)
    const { git, calls } = recordingGit()
    const ops = createMirrorOps(git, { lfs: true, log: () => undefined })
    const mirror = path.join(root, 'backup', 'lookalike.git')
    await ops.clone(`file://${upstream}`, mirror)
    expect(ran(calls, 'lfs')).toHaveLength(1)
    // git-lfs fetched the object our stricter parser does not see as a pointer.
    expect(
      fs.readFileSync(
        path.join(
          mirror,
          'lfs',
          'objects',
          pointer.oid.slice(0, 2),
          pointer.oid.slice(2, 4),
          pointer.oid
        )
      )
    ).toEqual(asset)
  })
})

describe('reading refs without git', () => {
  const forEachRef = (gitDir: string) =>
    new Map(
      sh(['for-each-ref', '--format=%(refname) %(objectname)'], gitDir)
        .split('\n')
        .filter(Boolean)
        .map(line => line.split(' ') as [string, string])
    )

  it('agrees with for-each-ref on packed, loose, deleted, peeled and unicode refs', async () => {
    const upstream = upstreamWith('refs', { 'a.txt': 'a\n' })
    const work = path.join(root, 'refs-work')
    sh(['tag', '-a', 'v1', '-m', 'annotated'], work)
    sh(['tag', 'light'], work)
    sh(['branch', 'feature/ünïcode+plus'], work)
    sh(['branch', 'doomed'], work)
    sh(['push', '-q', upstream, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], work)
    const mirror = path.join(root, 'refs-mirror.git')
    sh(['clone', '-q', '--mirror', `file://${upstream}`, mirror], root)
    // A fresh clone keeps every ref in packed-refs, peeled lines included.
    expect(fs.readFileSync(path.join(mirror, 'packed-refs'), 'utf8')).toMatch(/^\^[0-9a-f]{40}$/m)
    expect(await readRefFiles(mirror)).toEqual(forEachRef(mirror))

    // Loose refs over packed ones, a new namespace, and a deleted packed ref.
    const main = sh(['rev-parse', 'main'], mirror).trim()
    const next = sh(['commit-tree', '-m', 'next', '-p', main, `${main}^{tree}`], mirror).trim()
    sh(['update-ref', 'refs/heads/main', next], mirror)
    sh(['update-ref', 'refs/backup/20261124T000000Z/heads/main', main], mirror)
    sh(['update-ref', '-d', 'refs/heads/doomed'], mirror)
    const files = await readRefFiles(mirror)
    expect(files).toEqual(forEachRef(mirror))
    expect(files?.get('refs/heads/main')).toBe(next)
    expect(files?.has('refs/heads/doomed')).toBe(false)

    // An empty repository: no packed-refs, no loose refs.
    const empty = path.join(root, 'empty.git')
    sh(['init', '-q', '--bare', empty], root)
    expect(await readRefFiles(empty)).toEqual(new Map())
  })

  it('leaves symbolic refs, refs being written and unreadable files to git', async () => {
    const mirror = path.join(root, 'refs-mirror.git')
    const lock = path.join(mirror, 'refs', 'heads', 'busy.lock')
    fs.writeFileSync(lock, '')
    expect(await readRefFiles(mirror)).toBeUndefined()
    fs.rmSync(lock)
    sh(['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/heads/main'], mirror)
    expect(await readRefFiles(mirror)).toBeUndefined()
    sh(['update-ref', '-d', '--no-deref', 'refs/remotes/origin/HEAD'], mirror)
    expect(await readRefFiles(mirror)).toEqual(forEachRef(mirror))
    fs.writeFileSync(path.join(mirror, 'refs', 'heads', 'broken'), 'not an object name\n')
    expect(await readRefFiles(mirror)).toBeUndefined()
    fs.rmSync(path.join(mirror, 'refs', 'heads', 'broken'))
  })

  it('the mirror operations fall back to git for such a repository and see the same refs', async () => {
    const mirror = path.join(root, 'refs-mirror.git')
    const { git, calls } = recordingGit()
    const ops = createMirrorOps(git, { lfs: false })
    const plain = await ops.localSnapshot(mirror)
    expect(ran(calls, 'for-each-ref')).toEqual([])
    sh(['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/heads/main'], mirror)
    const viaGit = await ops.localSnapshot(mirror)
    expect(ran(calls, 'for-each-ref')).toHaveLength(1)
    // The symbolic ref counts as one more ref, exactly as for-each-ref lists it.
    expect(viaGit.refs).toBe(plain.refs + 1)
    sh(['update-ref', '-d', '--no-deref', 'refs/remotes/origin/HEAD'], mirror)
  })
})
