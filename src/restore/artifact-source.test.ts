// Artifact downloads go through the one GitHub client: a 502 on the zip redirect is retried, a stream
// broken midway starts over from a fresh redirect, the blob host never sees the token, and an
// expired artifact fails only its own repositories, in GitHub's words.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { crc32 } from 'node:zlib'
import { downloadFromArtifacts } from './artifact-source.js'

const TOKEN = 'ghs_artifactSourceTest000000000000000'

/** A zip of stored (uncompressed) files, as small as the format allows. */
function zip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text)
    const nameBytes = Buffer.from(name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt32LE(crc32(data), 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBytes.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt32LE(crc32(data), 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(nameBytes.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, nameBytes, data)
    centrals.push(central, nameBytes)
    offset += local.length + nameBytes.length + data.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(Object.keys(files).length, 8)
  end.writeUInt16LE(Object.keys(files).length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

const INDEX = {
  repositories: [
    {
      workspace: 'acme',
      slug: 'rich',
      artifact: { name: 'bitbucket-acme-rich', id: 2, runId: '5' }
    },
    { workspace: 'acme', slug: 'old', artifact: { name: 'bitbucket-acme-old', id: 3, runId: '4' } }
  ]
}
const BLOBS: Record<string, Buffer> = {
  '1': zip({ 'index.json': JSON.stringify(INDEX) }),
  '2': zip({ 'acme/rich/manifest.json': '{"format":1}' })
}

let server: http.Server
let base: string
let root: string
const seen: { path: string; authorization: boolean }[] = []
const answered = new Map<string, number>()

/** The n-th request for a path, counted from 1. */
const nth = (key: string) => {
  answered.set(key, (answered.get(key) ?? 0) + 1)
  return answered.get(key)!
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-artifact-source-'))
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, base)
    seen.push({ path: url.pathname, authorization: Boolean(req.headers.authorization) })
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (url.pathname === '/repos/acme/backups/actions/artifacts') {
      const index = {
        id: 1,
        name: 'bitbucket-backup-index',
        expired: false,
        workflow_run: { id: 5 }
      }
      return json(200, { total_count: 1, artifacts: [index] })
    }
    const zipRoute = /^\/repos\/acme\/backups\/actions\/artifacts\/(\d+)\/zip$/.exec(url.pathname)
    if (zipRoute) {
      const id = zipRoute[1]
      if (id === '3') return json(410, { message: 'Artifact has expired' })
      if (id === '1' && nth(url.pathname) === 1) return json(502, { message: 'Server Error' })
      return res.writeHead(302, { location: `${base}/blob/${id}.zip?sig=x` }).end()
    }
    const blob = /^\/blob\/(\d+)\.zip$/.exec(url.pathname)
    if (!blob) return json(404, { message: 'Not Found' })
    const bytes = BLOBS[blob[1]]
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': bytes.length })
    // The first download of artifact 2 breaks halfway, as a dropped connection does.
    if (blob[1] === '2' && nth(url.pathname) === 1) {
      res.write(bytes.subarray(0, bytes.length >> 1))
      return res.socket?.destroy()
    }
    res.end(bytes)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
  fs.rmSync(root, { recursive: true, force: true })
})

describe('downloading backup artifacts', () => {
  it('retries through the GitHub client, starts a broken download over, and keeps the token to GitHub', async () => {
    const lines: string[] = []
    const dir = path.join(root, 'artifacts')
    const result = await downloadFromArtifacts({
      token: TOKEN,
      repository: 'acme/backups',
      apiUrl: base,
      select: () => true,
      keys: {},
      dir,
      log: line => lines.push(line)
    })
    expect(
      fs.readFileSync(path.join(dir, 'bitbucket-acme-rich/acme/rich/manifest.json'), 'utf8')
    ).toBe('{"format":1}')
    expect(result.unavailable).toEqual([
      {
        repository: 'acme/old',
        detail:
          'artifact bitbucket-acme-old of run 4 could not be downloaded: Artifact has expired [RS007]'
      }
    ])
    expect(lines).toContainEqual(expect.stringMatching(/answered 502; retry in \d+ s$/))
    expect(lines).toContainEqual(
      expect.stringMatching(/^artifact 2: download failed \(.*\); retry/)
    )
    expect(
      seen.filter(request => request.path === '/repos/acme/backups/actions/artifacts/2/zip')
    ).toHaveLength(2)
    expect(
      seen.filter(request => request.path.startsWith('/blob/')).map(r => r.authorization)
    ).toEqual([false, false, false])
    expect(
      seen.filter(request => request.path.startsWith('/repos/')).every(r => r.authorization)
    ).toBe(true)
  })
})
