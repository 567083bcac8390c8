// Real git: fingerprints agree between ls-remote and a mirror, and credentials stay in the environment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { createGit, type Git } from './git.js'
import { createMirrorOps } from './mirror.js'

let root: string
let upstream: string
const sh = (args: string[], cwd: string) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd
  }).toString()

async function listen(handler: http.RequestListener) {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => handler(req, res))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** The GIT_CONFIG_* variables a git runs with, printed by a shell alias (it inherits git's environment). */
async function configEnvironment(git: Git): Promise<Record<string, string>> {
  const output = await git.run(['-c', 'alias.print-env=!env', 'print-env'])
  return Object.fromEntries(
    output
      .split('\n')
      .filter(line => /^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)=/.test(line))
      .map(line => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-git-'))
  upstream = path.join(root, 'upstream.git')
  const work = path.join(root, 'work')
  sh(['init', '-q', '--bare', upstream], root)
  sh(['init', '-q', '-b', 'main', work], root)
  fs.writeFileSync(path.join(work, 'a.txt'), 'a')
  sh(['add', '.'], work)
  sh(['commit', '-qm', 'first'], work)
  sh(['tag', '-a', 'v1', '-m', 'annotated'], work)
  sh(['branch', 'feature/ünïcode+plus'], work)
  sh(['push', '-q', upstream, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*'], work)
})

afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

describe('ref fingerprints', () => {
  it('are equal for the remote and its mirror, ignoring HEAD, peeled tags and refs/backup/', async () => {
    const git = createGit()
    const ops = createMirrorOps(git, { lfs: false })
    const mirror = path.join(root, 'mirror.git')
    await git.run(['clone', '--mirror', '-q', upstream, mirror])
    await git.run(['update-ref', 'refs/backup/20261124T000000Z/heads/old', 'refs/heads/main'], {
      cwd: mirror
    })
    const remote = await ops.remoteRefs(upstream)
    expect(remote.refs).toBe(3)
    expect(await ops.localSnapshot(mirror)).toEqual({
      fingerprint: remote.fingerprint,
      refs: remote.refs
    })
  })

  it('change when upstream gains a commit', async () => {
    const ops = createMirrorOps(createGit(), { lfs: false })
    const before = await ops.remoteRefs(upstream)
    const work = path.join(root, 'work')
    fs.writeFileSync(path.join(work, 'b.txt'), 'b')
    sh(['add', '.'], work)
    sh(['commit', '-qm', 'second'], work)
    sh(['push', '-q', upstream, 'main'], work)
    expect((await ops.remoteRefs(upstream)).fingerprint).not.toBe(before.fingerprint)
  })
})

describe('git credentials', () => {
  it('live only in environment configuration bound to one origin, with credential helpers off', async () => {
    const env = await configEnvironment(
      createGit([
        { origin: 'https://bitbucket.org/ws/repo.git', authorization: async () => 'Basic c2VjcmV0' }
      ])
    )
    expect(env).toEqual({
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'credential.helper',
      GIT_CONFIG_VALUE_0: '',
      GIT_CONFIG_KEY_1: 'http.followRedirects',
      GIT_CONFIG_VALUE_1: 'false',
      GIT_CONFIG_KEY_2: 'http.https://bitbucket.org/.extraheader',
      GIT_CONFIG_VALUE_2: 'Authorization: Basic c2VjcmV0'
    })
    const git = createGit([
      { origin: 'https://bitbucket.org', authorization: async () => 'Basic c2VjcmV0' }
    ])
    const forOrigin = await git.exec([
      'config',
      '--get-urlmatch',
      'http.extraheader',
      'https://bitbucket.org/ws/r.git'
    ])
    const forStorage = await git.exec([
      'config',
      '--get-urlmatch',
      'http.extraheader',
      'https://media.example.com/o'
    ])
    expect(forOrigin.stdout.trim()).toBe('Authorization: Basic c2VjcmV0')
    expect(forStorage.exitCode).toBe(1)
  })

  it('never reach another origin through a redirect', async () => {
    // The origin the header is bound to redirects git to a server that answers like a git server:
    // git's default (http.followRedirects=initial) would send it the header with its next request.
    const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, '0') + line
    const seen: { method?: string; authorization?: string }[] = []
    const elsewhere = await listen((req, res) => {
      seen.push({ method: req.method, authorization: req.headers.authorization })
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' })
        res.end(
          `${pkt('# service=git-upload-pack\n')}0000${pkt('version 2\n')}${pkt('ls-refs\n')}0000`
        )
      } else {
        res.writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-result' }).end('0000')
      }
    })
    const bound = await listen((req, res) => {
      res.writeHead(302, {
        Location: `${elsewhere.origin.replace('127.0.0.1', 'localhost')}${req.url}`
      })
      res.end()
    })
    try {
      const git = createGit([{ origin: bound.origin, authorization: async () => 'Basic c2VjcmV0' }])
      const result = await git.exec(['ls-remote', `${bound.origin}/ws/repo.git`])
      expect(seen.filter(request => request.authorization)).toEqual([])
      expect(result.stderr).toMatch(/returned error: 302/)
    } finally {
      bound.server.close()
      elsewhere.server.close()
    }
  })

  it("reports a failure with git's own reason", async () => {
    await expect(createGit().run(['ls-remote', path.join(root, 'missing.git')])).rejects.toThrow(
      /^git ls-remote failed: /
    )
  })
})
