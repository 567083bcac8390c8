// The generic push code serves every destination: a restore into the local Bitbucket, or to a URL on
// any host, whose server refuses the first pack (HTTP 413) names that destination, never GitHub.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { refsOf } from '../../testkit/git-inspect.js'
import {
  RESTORE_EMAIL,
  RESTORE_TOKEN,
  RESTORE_WORKSPACE,
  startRestoreDestination
} from '../../testkit/round-trip.js'
import { parseRestoreRequest } from '../settings/restore.js'
import { runRestore } from './flow.js'

let root: string
let backup: string
let bb: LocalBitbucket

const git = (args: string[], cwd: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd })

/** Restores the backup with these inputs; its log lines and outcome. */
async function restore(inputs: Record<string, string>) {
  const request = parseRestoreRequest(
    {
      get: name => ({ from: backup, 'bitbucket-api-url': bb.apiUrl, ...inputs })[name] ?? '',
      mask: () => undefined,
      env: {}
    },
    { artifacts: false, baseDir: root }
  )
  const lines: string[] = []
  const run = await runRestore(request, {
    log: line => lines.push(line),
    mask: () => undefined,
    workDir: fs.mkdtempSync(path.join(root, 'scratch-'))
  })
  return { lines, outcome: run.outcomes[0] }
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-restore-names-'))
  const work = path.join(root, 'work')
  git(['init', '-q', '-b', 'main', work], root)
  // Incompressible commits: half of the refused pack is still several commits' worth.
  for (let i = 0; i < 6; i++) {
    fs.writeFileSync(path.join(work, `data-${i}.bin`), randomBytes(8 * 1024))
    git(['add', '.'], work)
    git(['commit', '-qm', `data ${i}`], work)
  }
  backup = path.join(root, 'backup')
  git(['clone', '-q', '--mirror', work, path.join(backup, 'acme', 'big.git')], root)
  bb = await startRestoreDestination()
})

afterAll(async () => {
  await bb?.close()
  if (root) fs.rmSync(root, { recursive: true, force: true })
})

describe('a push refused with HTTP 413', () => {
  it('is Bitbucket refusing, in a restore into a Bitbucket workspace', async () => {
    bb.injectGitFaults({ kind: '413', count: 1, path: /\/git-receive-pack$/ })
    const { lines, outcome } = await restore({
      'bitbucket-workspace': RESTORE_WORKSPACE,
      'bitbucket-email': RESTORE_EMAIL,
      'bitbucket-api-token': RESTORE_TOKEN
    })
    console.log(lines.join('\n'))
    expect(outcome).toMatchObject({ repository: 'acme/big', ok: true })
    expect(lines).toContainEqual(
      expect.stringMatching(/^acme\/big: Bitbucket refused a pack of about .*: pushing in steps/)
    )
    expect(lines.filter(line => /GitHub/.test(line))).toEqual([])
    const restored = bb.repository(RESTORE_WORKSPACE, 'big')!.gitDir
    expect(refsOf(restored)).toEqual(refsOf(path.join(backup, 'acme', 'big.git')))
  })

  it('is the host refusing, in a restore to a URL', async () => {
    bb.addRepository(RESTORE_WORKSPACE, 'by-url', { empty: true })
    bb.injectGitFaults({ kind: '413', count: 1, path: /\/git-receive-pack$/ })
    const host = new URL(bb.origin).host
    const { lines, outcome } = await restore({
      to: `${bb.origin}/${RESTORE_WORKSPACE}/by-url.git`,
      'to-username': 'x-bitbucket-api-token-auth',
      'to-password': RESTORE_TOKEN
    })
    console.log(lines.join('\n'))
    expect(outcome).toMatchObject({ repository: 'acme/big', ok: true })
    expect(lines.some(line => line.startsWith(`acme/big: ${host} refused a pack of about `))).toBe(
      true
    )
    expect(lines.filter(line => /GitHub/.test(line))).toEqual([])
  })
})
