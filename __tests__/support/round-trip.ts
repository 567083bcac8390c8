// The workspace every restore round trip backs up and brings back: an empty repository, thousands of
// refs, unicode and `+` in ref names, notes, LFS objects on several branches and a deep history; and
// the comparison that says a restored repository is the source, bit for bit.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { lfsOids, manyRefs, workingCopy, type WorkingCopy } from './bitbucket/fixtures.js'
import type { LocalBitbucket } from './bitbucket/index.js'
import { lfsObjectFile, refsOf, sha256File } from './git-inspect.js'

export const ROUND_TRIP_SLUGS = ['rich', 'deep', 'many', 'empty'] as const

/** Commits made with fast-import: thousands in well under a second. */
async function deepHistory(wc: WorkingCopy, commits: number): Promise<void> {
  const lines: string[] = []
  for (let i = 1; i <= commits; i++) {
    const text = `line ${i}\n`
    lines.push(
      'commit refs/heads/main',
      `committer Deep <deep@fixtures.example> ${1767225600 + i} +0000`,
      `data ${`commit ${i}`.length}`,
      `commit ${i}`,
      `M 644 inline history/file-${i % 50}.txt`,
      `data ${Buffer.byteLength(text)}`,
      text.trimEnd(),
      ''
    )
  }
  await wc.run(['fast-import', '--quiet'], `${lines.join('\n')}\n`)
  await wc.run(['reset', '-q', '--hard', 'main'])
}

export interface RoundTripFixture {
  rich: WorkingCopy
}

export async function createRoundTripWorkspace(
  bb: LocalBitbucket,
  workspace: string
): Promise<RoundTripFixture> {
  bb.createWorkspace(workspace)
  for (const slug of ['rich', 'deep', 'empty']) {
    bb.addRepository(workspace, slug, { empty: slug === 'empty' })
  }
  const rich = await workingCopy(bb, workspace, 'rich')
  rich.write('README.md', '# rich\n')
  rich.writeLfs('assets/logo.bin', randomBytes(200_000))
  await rich.commit('first, with an LFS object')
  await rich.tag('v1.0', { annotated: true })
  await rich.tag('lightweight')
  await rich.checkout('feature/ünïcödé+plus', { create: true })
  rich.writeLfs('assets/feature.bin', randomBytes(150_000))
  await rich.commit('a second LFS object on a unicode branch')
  await rich.checkout('release/1.0+build.7', { create: true })
  rich.writeLfs('assets/release.bin', randomBytes(100_000))
  await rich.commit('a third LFS object on a branch with +')
  await rich.checkout('main')
  await rich.push()
  await rich.run(['notes', 'add', '-m', 'reviewed by the fixture', 'HEAD'])
  await rich.run(['push', '-q', 'origin', 'refs/notes/*:refs/notes/*'])

  const deep = await workingCopy(bb, workspace, 'deep')
  await deepHistory(deep, 3000)
  await deep.push()

  await manyRefs(bb, workspace, 'many', 2000)
  return { rich }
}

/** Every ref (the backup's own history namespace aside) and every LFS object of the source. */
export function expectRestoredAsSource(
  bb: LocalBitbucket,
  workspace: string,
  slug: string,
  restored: string
): { refs: number; lfs: number } {
  const source = bb.repository(workspace, slug)!.gitDir
  const sourceRefs = refsOf(source)
  const restoredRefs = refsOf(restored).filter(line => !line.includes(' refs/backup/'))
  if (JSON.stringify(restoredRefs) !== JSON.stringify(sourceRefs)) {
    const missing = sourceRefs.filter(line => !restoredRefs.includes(line))
    const extra = restoredRefs.filter(line => !sourceRefs.includes(line))
    throw new Error(
      `${slug}: refs differ (${missing.length} missing, e.g. ${missing[0]}; ${extra.length} extra, e.g. ${extra[0]})`
    )
  }
  if (sourceRefs.length > 0) {
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: restored, stdio: 'pipe' })
  }
  const oids = lfsOids(bb, workspace, slug)
  for (const oid of oids) {
    const file = lfsObjectFile(restored, oid)
    if (!fs.existsSync(file) || sha256File(file) !== oid) {
      throw new Error(
        `${slug}: LFS object ${oid} is missing or damaged in ${path.basename(restored)}`
      )
    }
  }
  return { refs: sourceRefs.length, lfs: oids.size }
}
