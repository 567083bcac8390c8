// The release script (scripts/release.sh, run by .github/workflows/release.yml on a version tag) in
// a scratch clone of this repository, offline: a local bare repository plays origin, the GitHub
// call is a dry run (and a `gh` on PATH records any call, to show none is made). Its dist/ check is
// real: it builds (npm run build, node_modules linked from this checkout instead of npm ci) and
// compares with the committed dist/. The tests run in order: the refusal leaves the fresh build in
// dist/, which the second test commits, as the refusal tells a maintainer to.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { projectRoot } from '../testkit/action-runner.js'

const script = path.join(projectRoot, 'scripts', 'release.sh')
const BUILD_MS = 300_000

let work: string
let scratch: string
let origin: string
let ghCalls: string
let version: string
let tag: string
let previousMajor: string

const identity = {
  GIT_AUTHOR_NAME: 'Release Test',
  GIT_AUTHOR_EMAIL: 'release@example.com',
  GIT_COMMITTER_NAME: 'Release Test',
  GIT_COMMITTER_EMAIL: 'release@example.com'
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...identity }
  }).trim()
}

function release(releaseTag: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.join(work, 'bin')}${path.delimiter}${process.env.PATH}`,
    RELEASE_BUILD_COMMAND: 'npm run build'
  }
  delete env.GH_TOKEN
  delete env.GITHUB_REF_NAME
  const run = spawnSync('bash', [script, '--dry-run', releaseTag], {
    cwd: scratch,
    env,
    encoding: 'utf8',
    timeout: BUILD_MS
  })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

/** The lines of CHANGELOG.md under "## [version]", up to the next version or the link definitions. */
function changelogSection(changelog: string, of: string): string {
  const lines = changelog.split('\n')
  const start = lines.findIndex(line => line.startsWith(`## [${of}]`))
  const rest = lines.slice(start + 1)
  const end = rest.findIndex(line => line.startsWith('## [') || /^\[[^\]]+\]: /.test(line))
  return rest.slice(0, end < 0 ? undefined : end).join('\n')
}

const words = (text: string) => text.replace(/\s+/g, ' ').trim()

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'release-script-'))
  scratch = path.join(work, 'scratch')
  origin = path.join(work, 'origin.git')
  git(work, 'clone', '--quiet', projectRoot, scratch)
  for (const existing of git(scratch, 'tag', '--list').split('\n').filter(Boolean)) {
    git(scratch, 'tag', '--delete', existing)
  }
  fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(scratch, 'node_modules'))
  // The notes of this checkout, committed or not, are the ones released.
  fs.copyFileSync(path.join(projectRoot, 'CHANGELOG.md'), path.join(scratch, 'CHANGELOG.md'))
  git(work, 'init', '--quiet', '--bare', origin)
  git(scratch, 'remote', 'set-url', 'origin', origin)
  git(scratch, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main')
  // An earlier release's major tag, which the release must move.
  git(scratch, 'tag', 'v0', 'HEAD')
  git(scratch, 'push', '--quiet', 'origin', 'refs/tags/v0')
  previousMajor = git(scratch, 'rev-parse', 'v0')

  ghCalls = path.join(work, 'gh-calls')
  fs.mkdirSync(path.join(work, 'bin'))
  fs.writeFileSync(path.join(work, 'bin', 'gh'), `#!/bin/sh\necho "$*" >> '${ghCalls}'\nexit 1\n`, {
    mode: 0o755
  })
  version = JSON.parse(fs.readFileSync(path.join(scratch, 'package.json'), 'utf8')).version
  tag = `v${version}`
})

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true })
})

describe('scripts/release.sh --dry-run in a scratch clone', () => {
  it('refuses a tag that is not the version package.json has, before building anything', () => {
    git(scratch, 'tag', 'v99.0.0')
    const { status, stdout, stderr } = release('v99.0.0')
    git(scratch, 'tag', '--delete', 'v99.0.0')
    expect(stderr.trim()).toBe(
      `release: refused: package.json has version ${version}, the tag v99.0.0 says 99.0.0`
    )
    expect(stdout).not.toContain('building')
    expect(status).toBe(1)
  })

  it(
    'refuses with one line when the committed dist/ is not what a clean build produces',
    () => {
      fs.appendFileSync(path.join(scratch, 'dist', 'index.js'), '\n// edited by hand\n')
      git(scratch, 'add', 'CHANGELOG.md', 'dist/index.js')
      git(scratch, 'commit', '--quiet', '-m', 'A release candidate whose dist/ was edited by hand')
      git(scratch, 'tag', tag)

      const { status, stdout, stderr } = release(tag)
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^release: refused: dist\/ is not what a clean build \(npm run build\) produces: \d+ file\(s\) differ \(.*dist\/index\.js.*\); the fresh build is in dist\/: commit it and tag again$/
        )
      ])
      expect(status).toBe(1)
      expect(stdout).not.toContain('release notes')
      // Nothing was published or moved.
      expect(git(scratch, 'rev-parse', 'v0')).toBe(previousMajor)
      expect(git(origin, 'rev-parse', 'v0')).toBe(previousMajor)
      expect(fs.existsSync(ghCalls)).toBe(false)
    },
    BUILD_MS + 30_000
  )

  it(
    'with the fresh build committed, prints the CHANGELOG section and moves v0 to the tag, here and on origin',
    () => {
      git(scratch, 'add', '--all', 'dist')
      git(scratch, 'commit', '--quiet', '-m', 'dist: rebuilt')
      git(scratch, 'tag', '--force', tag)
      const tagged = git(scratch, 'rev-parse', `${tag}^{commit}`)
      expect(tagged).not.toBe(previousMajor)

      const { status, stdout, stderr } = release(tag)
      expect(stderr).toBe('')
      expect(status).toBe(0)
      expect(stdout).toContain('release: dist/ is exactly what a clean build produces')
      expect(stdout).toContain(
        `release: dry run: would run: gh release create ${tag} --verify-tag --title ${tag} --notes-file`
      )

      // The notes are the version's CHANGELOG section, its hard-wrapped lines joined.
      const notes = stdout.split(`----- release notes of ${tag} -----\n`)[1]?.split('\n-----')[0]
      const section = changelogSection(
        fs.readFileSync(path.join(scratch, 'CHANGELOG.md'), 'utf8'),
        version
      )
      expect(section).toMatch(/^### Added$/m)
      expect(words(notes ?? '')).toBe(words(section))
      const items = (text: string) => text.split('\n').filter(line => /^\s*- /.test(line))
      expect(items(notes ?? '')).toHaveLength(items(section).length)
      expect((notes ?? '').split('\n').length).toBeLessThan(section.split('\n').length)

      expect(git(scratch, 'rev-parse', 'v0')).toBe(tagged)
      expect(git(origin, 'rev-parse', 'v0')).toBe(tagged)
      expect(stdout).toContain(`release: v0 now points at ${tag} (${tagged}) here and on origin`)
      expect(fs.existsSync(ghCalls)).toBe(false)
    },
    BUILD_MS + 30_000
  )
})
