// The archive over real git: a tree committed to refs/backup/metadata, a new commit only when
// something but the manifest changed, each commit on top of the last, files read back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit } from '../git/git.js'
import { openArchive } from './archive.js'
import { ArchivePaths, METADATA_REF, type ArchivedPullRequest } from './layout.js'

let root: string
let mirror: string
const git = createGit()
const sh = (args: string[]) => execFileSync('git', args, { cwd: mirror }).toString().trim()
const manifest = (previous: unknown) => ({
  version: 1,
  collectedAt: { ...(previous as { collectedAt?: object })?.collectedAt, at: Date.now() }
})
const pr = (id: number, title: string): ArchivedPullRequest => ({
  pullRequest: { id, title },
  comments: [],
  activity: [],
  tasks: [],
  statuses: [],
  diffKept: false
})

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-archive-'))
  mirror = path.join(root, 'repo.git')
  execFileSync('git', ['init', '-q', '--bare', mirror])
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('the metadata archive', () => {
  it('commits a tree of nested files, then nothing when the same files are written again', async () => {
    const first = await openArchive(git, mirror)
    expect(first.previous).toBeUndefined()
    first.putJson(ArchivePaths.pullRequest(1), pr(1, 'One'))
    const file = path.join(root, 'release.bin')
    fs.writeFileSync(file, Buffer.alloc(70_000, 7))
    first.putFile(ArchivePaths.downloadFile('release.bin'), file)
    first.putJson(ArchivePaths.downloadsIndex, [{ name: 'release.bin', size: 70_000 }])
    const made = await first.commit('first', manifest)
    expect(made.changed).toBe(true)
    expect(sh(['rev-parse', METADATA_REF])).toBe(made.commit)
    expect(sh(['ls-tree', '-r', '--name-only', METADATA_REF]).split('\n').sort()).toEqual([
      'downloads/files/release.bin',
      'downloads/index.json',
      'metadata.json',
      'pull-requests/1.json'
    ])
    expect(
      execFileSync('git', ['cat-file', 'blob', `${METADATA_REF}:downloads/files/release.bin`], {
        cwd: mirror
      })
    ).toEqual(Buffer.alloc(70_000, 7))
    // No scratch files are left in the mirror.
    expect(fs.readdirSync(mirror).filter(name => name.startsWith('bitbucket-backup'))).toEqual([])

    const again = await openArchive(git, mirror)
    expect(again.previous).toBe(made.commit)
    again.putJson(ArchivePaths.pullRequest(1), pr(1, 'One'))
    const same = await again.commit('same', manifest)
    expect(same).toEqual({ commit: made.commit, changed: false })
    expect(sh(['rev-list', '--count', METADATA_REF])).toBe('1')
  })

  it('adds a commit on top of the last when a file changes or goes, and reads files back', async () => {
    const before = sh(['rev-parse', METADATA_REF])
    const archive = await openArchive(git, mirror)
    expect(JSON.parse((await archive.readText(ArchivePaths.pullRequest(1)))!)).toEqual(pr(1, 'One'))
    archive.putJson(ArchivePaths.pullRequest(1), pr(1, 'One, renamed'))
    archive.putJson(ArchivePaths.pullRequest(2), pr(2, 'Two'))
    archive.remove(ArchivePaths.downloadFile('release.bin'))
    expect(archive.paths('pull-requests/').sort()).toEqual([
      'pull-requests/1.json',
      'pull-requests/2.json'
    ])
    const next = await archive.commit('second', manifest)
    expect(next.changed).toBe(true)
    expect(sh(['rev-parse', `${METADATA_REF}^`])).toBe(before)
    expect(sh(['rev-list', '--count', METADATA_REF])).toBe('2')
    expect(sh(['ls-tree', '-r', '--name-only', METADATA_REF])).not.toContain('release.bin')
    // The history still holds what the tree dropped.
    expect(sh(['cat-file', '-s', `${before}:downloads/files/release.bin`])).toBe('70000')
    const read = await (
      await openArchive(git, mirror)
    ).readMany([
      ArchivePaths.pullRequest(1),
      ArchivePaths.pullRequest(2),
      ArchivePaths.pullRequest(3)
    ])
    expect([...read.keys()]).toEqual(['pull-requests/1.json', 'pull-requests/2.json'])
    expect(sh(['fsck', '--no-dangling'])).toBe('')
  })

  it('writes the page from every pull request only when a renderer is given', async () => {
    const seen: number[][] = []
    const archive = await openArchive(git, mirror, {
      renderPage: prs => {
        seen.push(prs.map(each => each.pullRequest.id))
        return '<html></html>\n'
      }
    })
    archive.putJson(ArchivePaths.pullRequest(3), pr(3, 'Three'))
    await archive.commit('third', manifest)
    expect(seen).toEqual([[1, 2, 3]])
    expect(sh(['cat-file', 'blob', `${METADATA_REF}:${ArchivePaths.page}`])).toBe('<html></html>')
    const plain = await openArchive(git, mirror)
    plain.putJson(ArchivePaths.pullRequest(4), pr(4, 'Four'))
    await plain.commit('fourth', manifest)
    expect(seen).toHaveLength(1)
  })
})
