// How artifacts are protected, as an id the state keeps: when it changes (encryption turned on,
// other recipients, another passphrase), every repository is due to be uploaded again.
import { Decrypter, Encrypter } from 'age-encryption'
import { createHash, randomBytes } from 'node:crypto'
import type { EncryptionSettings } from '../../settings/types.js'
import type { ArtifactRecordState, WorkspaceState } from '../../state/state.js'

export const UNPROTECTED = 'none'
const CANARY_TEXT = 'bitbucket-backup passphrase canary'

async function opens(canary: string, passphrase: string): Promise<boolean> {
  const decrypter = new Decrypter()
  decrypter.addPassphrase(passphrase)
  try {
    return (await decrypter.decrypt(Buffer.from(canary, 'base64'), 'text')) === CANARY_TEXT
  } catch {
    return false
  }
}

/**
 * Recipients are public keys: their id is a hash of them. A passphrase is never stored, nor a hash
 * a guess could be checked against quickly: the state keeps a canary encrypted with it (scrypt, as
 * the artifacts are), and a passphrase that opens the canary is the same passphrase.
 */
export async function protectionId(
  encryption: EncryptionSettings | undefined,
  states: WorkspaceState[]
): Promise<string> {
  if (!encryption) return UNPROTECTED
  if (!encryption.passphrase) {
    const keys = [...encryption.recipients].sort().join('\n')
    return `recipients:${createHash('sha256').update(keys).digest('hex').slice(0, 16)}`
  }
  const passphrase = encryption.passphrase
  let known: WorkspaceState['passphrase']
  for (const state of states) {
    if (state.passphrase && (await opens(state.passphrase.canary, passphrase))) {
      known = state.passphrase
      break
    }
  }
  if (!known) {
    const encrypter = new Encrypter()
    encrypter.setPassphrase(passphrase)
    const canary = Buffer.from(await encrypter.encrypt(CANARY_TEXT)).toString('base64')
    known = { id: randomBytes(8).toString('hex'), canary }
  }
  for (const state of states) state.passphrase = known
  return `passphrase:${known.id}`
}

/** What protects an artifact recorded before ids existed: its `encrypted` flag is all it says. */
export function recordedProtection(record: ArtifactRecordState, current: string): string {
  if (record.protection) return record.protection
  if (!record.encrypted) return UNPROTECTED
  // Encrypted under some key: taken as the current one, the only key a run could have used.
  return current === UNPROTECTED ? 'encrypted' : current
}
