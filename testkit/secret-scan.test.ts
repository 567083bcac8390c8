// The leak scanner itself must find what it looks for, or the "no credential" tests prove nothing.
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { scanCacheArchive, scanTree, secretForms } from './secret-scan.js'

const SECRET = 'ATATT3xFfGF0planted-secret'
const forms = secretForms(SECRET, ['x-bitbucket-api-token-auth'])

describe('secret scanner', () => {
  it('finds a secret as is and inside a Basic header, in nested and binary files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-scan-'))
    try {
      fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true })
      fs.writeFileSync(path.join(dir, 'clean.txt'), 'nothing here')
      const header = Buffer.from(`x-bitbucket-api-token-auth:${SECRET}`).toString('base64')
      fs.writeFileSync(path.join(dir, 'a', 'b', 'config'), `extraheader = Basic ${header}\n`)
      fs.writeFileSync(
        path.join(dir, 'a', 'blob'),
        Buffer.concat([Buffer.from([0, 255]), Buffer.from(SECRET)])
      )
      const { leaks, files } = scanTree(dir, forms)
      expect(files).toBe(3)
      expect([...new Set(leaks.map(leak => path.relative(dir, leak.where)))].sort()).toEqual([
        'a/b/config',
        'a/blob'
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('finds a secret inside a zstd tar archive (the cache format)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-scan-'))
    try {
      fs.mkdirSync(path.join(dir, 'in'))
      fs.writeFileSync(path.join(dir, 'in', 'state.json'), JSON.stringify({ token: SECRET }))
      const archive = path.join(dir, 'cache.tzst')
      execFileSync('tar', ['--use-compress-program', 'zstd', '-cf', archive, '-C', dir, 'in'])
      const leaks = scanCacheArchive('entry', fs.readFileSync(archive), forms)
      expect(leaks.length).toBeGreaterThan(0)
      expect(leaks[0].form).toBe(SECRET)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
