// Upstream's refs read by Node from the smart HTTP ref advertisement: the same refs git ls-remote
// sees, the credential only for Bitbucket's origin, and anything unusual left to git.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describeRepositoryFailure } from '../backup/failure.js'
import { originBoundGitAuthorization } from '../credentials/credentials.js'
import { fingerprintOf } from './fingerprint.js'
import { createGit, GitError } from './git.js'
import { createMirrorOps } from './mirror.js'
import {
  createRefAdvertisementClient,
  proxyConfigured,
  type RefAdvertisementClient
} from './ref-advertisement.js'
import { startLocalBitbucket, type LocalBitbucket } from '../../testkit/bitbucket/index.js'
import { git, manyRefs, workingCopy } from '../../testkit/bitbucket/fixtures.js'

const EMAIL = 'jane@example.com'
const TOKEN = 'ATATT-advertisement-token'
const authorization = `Basic ${Buffer.from(`x-bitbucket-api-token-auth:${TOKEN}`).toString('base64')}`

let bb: LocalBitbucket
let client: RefAdvertisementClient
const url = (slug: string) => `${bb.origin}/acme/${slug}.git`

/** What `git ls-remote` prints on protocol v0 with the credential bound to the origin. */
async function lsRemote(slug: string): Promise<string[]> {
  const run = await git(['-c', 'protocol.version=0', 'ls-remote', '--', url(slug)], {
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${bb.origin}/.extraheader`,
      GIT_CONFIG_VALUE_0: `Authorization: ${authorization}`
    }
  })
  expect(run.code).toBe(0)
  return run.stdout.split('\n').filter(Boolean)
}

/** A server on another origin that records what reached it and answers with `answer`. */
async function recordingServer(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void
): Promise<{
  origin: string
  seen: http.IncomingHttpHeaders[]
  connections: number
  close(): Promise<void>
}> {
  const state = { seen: [] as http.IncomingHttpHeaders[], connections: 0 }
  const server = http.createServer((req, res) => {
    state.seen.push(req.headers)
    answer(req, res)
  })
  server.on('connection', () => state.connections++)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    get seen() {
      return state.seen
    },
    get connections() {
      return state.connections
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** A client that sends the test credential to `origin` only. */
const clientBoundTo = (origin: string, maxSockets: number) =>
  createRefAdvertisementClient({
    authorization: originBoundGitAuthorization(
      { gitAuthorization: async () => authorization },
      origin
    ),
    maxSockets
  })

const pkt = (text: string) => `${(text.length + 4).toString(16).padStart(4, '0')}${text}`
const OID = 'a'.repeat(40)
const ADVERTISEMENT =
  `${pkt('# service=git-upload-pack\n')}0000` +
  `${pkt(`${OID} HEAD\0multi_ack side-band-64k\n`)}${pkt(`${OID} refs/heads/main\n`)}0000`

beforeAll(async () => {
  bb = await startLocalBitbucket()
  bb.createWorkspace('acme')
  bb.addApiToken({ email: EMAIL, username: 'jane', token: TOKEN })
  bb.addRepository('acme', 'app')
  bb.addRepository('acme', 'empty', { empty: true })
  const app = await workingCopy(bb, 'acme', 'app')
  app.write('README.md', '# app\n')
  await app.commit('first')
  await app.tag('v1', { annotated: true })
  await app.tag('light')
  await app.checkout('feature/ünïcode+plus', { create: true })
  app.write('f.txt', 'feature\n')
  await app.commit('feature')
  await app.checkout('main')
  await app.push()
  await manyRefs(bb, 'acme', 'many', 2000)
  client = clientBoundTo(bb.origin, 4)
}, 60_000)

afterAll(async () => {
  client?.close()
  await bb?.close()
})

describe('reading the ref advertisement from Node', () => {
  it('lists exactly what git ls-remote lists: HEAD, branches, annotated and peeled tags, unicode', async () => {
    const fromGit = await lsRemote('app')
    expect(fromGit.some(line => line.endsWith('^{}'))).toBe(true)
    expect(await client.advertisedRefs(url('app'))).toEqual(fromGit)
  })

  it('agrees with git on a repository with 2,000 refs and on an empty one', async () => {
    const many = await client.advertisedRefs(url('many'))
    expect(many).toEqual(await lsRemote('many'))
    expect(many!.length).toBeGreaterThan(2000)
    expect(await client.advertisedRefs(url('empty'))).toEqual([])
    expect(await lsRemote('empty')).toEqual([])
  })

  it('the mirror operations use it and reach the fingerprint git would, with no git process', async () => {
    const calls: string[][] = []
    const inner = createGit([{ origin: bb.origin, authorization: async () => authorization }])
    const recorded = { ...inner, run: (args: string[]) => (calls.push(args), inner.run(args)) }
    const ops = createMirrorOps(recorded, { lfs: false, advertisedRefs: client.advertisedRefs })
    const remote = await ops.remoteRefs(url('app'))
    expect(calls).toEqual([])
    expect(remote.fingerprint).toBe(fingerprintOf(await lsRemote('app')).fingerprint)
    expect(remote.refMap.get('refs/heads/main')).toMatch(/^[0-9a-f]{40}$/)
  })

  it('sends the credential over a few kept-alive connections, one request per repository', async () => {
    const server = await recordingServer((_req, res) =>
      res
        .writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' })
        .end(ADVERTISEMENT)
    )
    const local = clientBoundTo(server.origin, 3)
    try {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          local.advertisedRefs(`${server.origin}/acme/r${i}.git`)
        )
      )
      expect(answers.every(refs => refs?.join() === `${OID}\tHEAD,${OID}\trefs/heads/main`)).toBe(
        true
      )
      expect(server.seen).toHaveLength(30)
      expect(server.seen.every(headers => headers.authorization === authorization)).toBe(true)
      expect(server.connections).toBeLessThanOrEqual(3)
    } finally {
      local.close()
      await server.close()
    }
  })
})

describe('the credential stays with its origin, and git decides the rest', () => {
  it('sends no credential to another origin', async () => {
    const other = await recordingServer((_req, res) => res.writeHead(404).end())
    try {
      expect(await client.advertisedRefs(`${other.origin}/acme/app.git`)).toBeUndefined()
      expect(other.seen).toHaveLength(1)
      expect(other.seen[0].authorization).toBeUndefined()
    } finally {
      await other.close()
    }
  })

  it('does not follow a redirect: git decides where the credential of a moved repository may go', async () => {
    const elsewhere = await recordingServer((_req, res) => res.writeHead(200).end())
    const redirecting = await recordingServer((_req, res) =>
      res.writeHead(302, { Location: `${elsewhere.origin}/acme/app.git/info/refs` }).end()
    )
    const local = clientBoundTo(redirecting.origin, 1)
    try {
      expect(await local.advertisedRefs(`${redirecting.origin}/acme/app.git`)).toBeUndefined()
      expect(redirecting.seen).toHaveLength(1)
      expect(elsewhere.seen).toHaveLength(0)
    } finally {
      local.close()
      await Promise.all([redirecting.close(), elsewhere.close()])
    }
  })

  it('leaves a refused credential to git, whose failure says which credential and user name', async () => {
    const auth = {
      description: 'the API token',
      gitUsername: 'x-bitbucket-api-token-auth',
      restUsername: EMAIL,
      restAuthorization: async () => '',
      gitAuthorization: async () => '',
      invalidate: () => undefined
    }
    const wrong = createRefAdvertisementClient({
      authorization: async () =>
        `Basic ${Buffer.from('x-bitbucket-api-token-auth:nope').toString('base64')}`,
      maxSockets: 1
    })
    try {
      expect(await wrong.advertisedRefs(url('app'))).toBeUndefined()
      const ops = createMirrorOps(
        createGit([
          {
            origin: bb.origin,
            authorization: async () =>
              `Basic ${Buffer.from('x-bitbucket-api-token-auth:nope').toString('base64')}`
          }
        ]),
        { lfs: false, advertisedRefs: wrong.advertisedRefs }
      )
      const failure = await ops.remoteRefs(url('app')).catch(error => error)
      expect(failure).toBeInstanceOf(GitError)
      expect(failure.message).toMatch(/^git ls-remote failed: /)
      expect(describeRepositoryFailure(failure, auth)).toMatch(
        /^Bitbucket rejected the API token for git \(user name "x-bitbucket-api-token-auth"\)/
      )
    } finally {
      wrong.close()
    }
  })

  it('leaves anything but a v0 advertisement to git: a dumb server, HTML, a cut-off answer', async () => {
    const answers = [
      (res: http.ServerResponse) =>
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${OID}\trefs/heads/main\n`),
      (res: http.ServerResponse) =>
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>'),
      (res: http.ServerResponse) =>
        res
          .writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' })
          .end(ADVERTISEMENT.slice(0, -4)),
      (res: http.ServerResponse) => res.writeHead(503).end('busy')
    ]
    let next = 0
    const server = await recordingServer((_req, res) => answers[next++](res))
    const local = createRefAdvertisementClient({
      authorization: async () => undefined,
      maxSockets: 1
    })
    try {
      for (let i = 0; i < answers.length; i++) {
        expect(await local.advertisedRefs(`${server.origin}/acme/app.git`)).toBeUndefined()
      }
    } finally {
      local.close()
      await server.close()
    }
  })

  it('parses protocol v1 and refuses v2 or a missing preamble', async () => {
    const bodies = [
      `${pkt('# service=git-upload-pack\n')}0000${pkt('version 1\n')}${pkt(`${OID} refs/heads/main\0caps\n`)}0000`,
      `${pkt('# service=git-upload-pack\n')}0000${pkt('version 2\n')}${pkt('ls-refs=unborn\n')}0000`,
      `${pkt(`${OID} refs/heads/main\0caps\n`)}0000`
    ]
    const server = await recordingServer((req, res) =>
      res
        .writeHead(200, { 'Content-Type': 'application/x-git-upload-pack-advertisement' })
        .end(bodies[Number(/\/(\d+)\.git\//.exec(req.url ?? '')![1])])
    )
    const local = createRefAdvertisementClient({
      authorization: async () => undefined,
      maxSockets: 1
    })
    /** The refs the client reads from an answer of `bodies[index]`. */
    const parseAdvertisement = (index: number) =>
      local.advertisedRefs(`${server.origin}/acme/${index}.git`)
    try {
      expect(await parseAdvertisement(0)).toEqual([`${OID}\trefs/heads/main`])
      expect(await parseAdvertisement(1)).toBeUndefined()
      expect(await parseAdvertisement(2)).toBeUndefined()
    } finally {
      local.close()
      await server.close()
    }
  })

  it('is not used behind a proxy (git honours the proxy variables, Node does not)', () => {
    expect(proxyConfigured({ HTTPS_PROXY: 'http://proxy:3128' })).toBe(true)
    expect(proxyConfigured({ http_proxy: 'http://proxy:3128' })).toBe(true)
    expect(proxyConfigured({ NO_PROXY: 'localhost' })).toBe(false)
  })
})
