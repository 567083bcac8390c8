// Child process for the memory check: encrypts a generated file of N MiB, prints peak RSS as JSON.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createFileEncryptor } from '../src/targets/artifact/encryption.js'

const mib = Number(process.argv[2] ?? '256')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-age-large-'))
try {
  const plain = path.join(dir, 'large.bin')
  const chunk = Buffer.alloc(1024 * 1024, 7)
  const fd = fs.openSync(plain, 'w')
  for (let i = 0; i < mib; i++) fs.writeSync(fd, chunk)
  fs.closeSync(fd)
  const encryptor = await createFileEncryptor({
    recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p']
  })
  await encryptor.encryptFile(plain, `${plain}.age`)
  const bytes = fs.statSync(`${plain}.age`).size
  console.log(
    JSON.stringify({ maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), bytes })
  )
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
