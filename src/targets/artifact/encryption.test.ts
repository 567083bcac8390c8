// age encryption of backup files: round trips, the standard age CLI both ways, wrong keys, memory.
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  createFileEncryptor,
  decryptFile,
  identitiesFor,
  WRAPPED_IDENTITY_FILE
} from './encryption.js'
import { recipientProblem } from '../../settings/artifact.js'
import { projectRoot } from '../../../testkit/action-runner.js'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-age-'))
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')
function keyPair(dir: string, name: string) {
  const file = path.join(dir, name)
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' })
  const identity = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .find(l => l.startsWith('AGE-SECRET-KEY-'))!
  return { file, identity, recipient: execFileSync('age-keygen', ['-y', file]).toString().trim() }
}

describe('age encryption of files', () => {
  it('round-trips with two recipients, each identity alone opening it, empty files included', async () => {
    const dir = tmp()
    const [a, b] = [keyPair(dir, 'a.txt'), keyPair(dir, 'b.txt')]
    const encryptor = await createFileEncryptor({ recipients: [a.recipient, b.recipient] })
    expect(encryptor.wrappedIdentity).toBeUndefined()
    for (const [name, content] of [
      ['data.bin', randomBytes(5 * 1024 * 1024 + 17)],
      ['empty', Buffer.alloc(0)]
    ] as const) {
      const plain = path.join(dir, name)
      fs.writeFileSync(plain, content)
      await encryptor.encryptFile(plain, `${plain}.age`)
      for (const key of [a, b]) {
        await decryptFile(`${plain}.age`, `${plain}.out`, [key.identity])
        expect(sha(`${plain}.out`)).toBe(sha(plain))
        // The standard age CLI opens what we wrote.
        const cli = execFileSync('age', ['-d', '-i', key.file, `${plain}.age`], {
          maxBuffer: 64 * 1024 * 1024
        })
        expect(createHash('sha256').update(cli).digest('hex')).toBe(sha(plain))
      }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('opens what the age CLI encrypted', async () => {
    const dir = tmp()
    const key = keyPair(dir, 'k.txt')
    const plain = path.join(dir, 'p.bin')
    fs.writeFileSync(plain, randomBytes(300_000))
    execFileSync('age', ['-r', key.recipient, '-o', `${plain}.age`, plain])
    await decryptFile(`${plain}.age`, `${plain}.out`, [key.identity])
    expect(sha(`${plain}.out`)).toBe(sha(plain))
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('with a passphrase, one wrapped run identity opens every file, in code and with the age CLI', async () => {
    const dir = tmp()
    const passphrase = 'correct-horse-battery-staple-42'
    const encryptor = await createFileEncryptor({ passphrase, recipients: [] })
    fs.writeFileSync(path.join(dir, WRAPPED_IDENTITY_FILE), encryptor.wrappedIdentity!)
    const plain = path.join(dir, 'p.bin')
    fs.writeFileSync(plain, randomBytes(100_000))
    await encryptor.encryptFile(plain, `${plain}.age`)
    const identities = await identitiesFor(dir, { passphrase })
    expect(identities).toHaveLength(1)
    await decryptFile(`${plain}.age`, `${plain}.out`, identities)
    expect(sha(`${plain}.out`)).toBe(sha(plain))
    // age reads passphrases from the terminal only: `script` gives it one, fed from stdin.
    const unwrapped = path.join(dir, 'run-key.txt')
    execFileSync(
      'script',
      ['-qec', `age -d -o ${unwrapped} ${path.join(dir, WRAPPED_IDENTITY_FILE)}`, '/dev/null'],
      {
        input: `${passphrase}\n`
      }
    )
    execFileSync('age', ['-d', '-i', unwrapped, '-o', `${plain}.cli`, `${plain}.age`])
    expect(sha(`${plain}.cli`)).toBe(sha(plain))
    await expect(
      identitiesFor(dir, { passphrase: 'wrong-passphrase-wrong-wrong' })
    ).rejects.toThrow()
    fs.rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it('a wrong identity fails and leaves no output file behind', async () => {
    const dir = tmp()
    const [right, wrong] = [keyPair(dir, 'r.txt'), keyPair(dir, 'w.txt')]
    const plain = path.join(dir, 'p.bin')
    fs.writeFileSync(plain, randomBytes(1000))
    await (
      await createFileEncryptor({ recipients: [right.recipient] })
    ).encryptFile(plain, `${plain}.age`)
    await expect(decryptFile(`${plain}.age`, `${plain}.out`, [wrong.identity])).rejects.toThrow()
    expect(fs.existsSync(`${plain}.out`)).toBe(false)
    expect(fs.existsSync(`${plain}.out.partial`)).toBe(false)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('checks recipients before any work', () => {
    const dir = tmp()
    expect(recipientProblem(keyPair(dir, 'k.txt').recipient)).toBeUndefined()
    expect(recipientProblem('age1notakey')).toMatch(/not a valid age public key/)
    expect(recipientProblem('ssh-ed25519 AAAAC3Nza')).toMatch(/not an age public key/)
    expect(recipientProblem('')).toMatch(/not an age public key/)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('keeps memory bounded: peak memory does not grow with the file size', () => {
    const script = path.join(projectRoot, 'testkit', 'encrypt-large-file.ts')
    const measure = (mib: number) => {
      const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx')
      const output = execFileSync(tsx, [script, String(mib)], { encoding: 'utf8' })
      return JSON.parse(output.trim().split('\n').pop()!) as { maxRssMb: number; bytes: number }
    }
    const small = measure(16)
    const large = measure(320)
    expect(large.bytes).toBeGreaterThan(320 * 1024 * 1024)
    // 304 MiB more data; a buffering implementation would need at least that much more memory.
    expect(large.maxRssMb - small.maxRssMb).toBeLessThan(48)
  }, 120_000)
})
