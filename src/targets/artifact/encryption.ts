// age encryption of backup files, streamed so a file of any size passes through bounded memory.
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import { Readable, Writable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { EncryptionSettings } from '../../settings/types.js'

export type { EncryptionSettings }

export const ENCRYPTED_SUFFIX = '.age'
/** With a passphrase, the run's own age identity, itself encrypted with the passphrase. */
export const WRAPPED_IDENTITY_FILE = 'identity.age'

export interface DecryptionKeys {
  passphrase?: string
  /** age identities (AGE-SECRET-KEY-1...). */
  identities?: string[]
}

export interface FileEncryptor {
  encryptFile(source: string, destination: string): Promise<void>
  /** Written beside encrypted files when a passphrase is used (see WRAPPED_IDENTITY_FILE). */
  wrappedIdentity: Uint8Array | undefined
}

/**
 * Recipients encrypt every file directly. A passphrase costs a deliberately slow scrypt per file, so
 * it protects one random identity per run instead and every file is encrypted to that identity:
 * thousands of LFS objects cost one scrypt, and the age CLI still opens everything.
 */
export async function createFileEncryptor(settings: EncryptionSettings): Promise<FileEncryptor> {
  let recipients = settings.recipients
  let wrappedIdentity: Uint8Array | undefined
  if (settings.passphrase) {
    const identity = await generateX25519Identity()
    const wrapper = new Encrypter()
    wrapper.setPassphrase(settings.passphrase)
    wrappedIdentity = await wrapper.encrypt(`${identity}\n`)
    recipients = [await identityToRecipient(identity)]
  }
  return {
    wrappedIdentity,
    async encryptFile(source, destination) {
      const encrypter = new Encrypter()
      for (const recipient of recipients) encrypter.addRecipient(recipient)
      await streamThrough(source, destination, input => encrypter.encrypt(input))
    }
  }
}

/** The identities that open a folder: given ones, plus the run identity a passphrase unwraps. */
export async function identitiesFor(folder: string, keys: DecryptionKeys): Promise<string[]> {
  const identities = [...(keys.identities ?? [])]
  if (keys.passphrase) {
    const wrapped = await fs.readFile(`${folder}/${WRAPPED_IDENTITY_FILE}`).catch(() => undefined)
    if (wrapped) {
      const decrypter = new Decrypter()
      decrypter.addPassphrase(keys.passphrase)
      const text = await decrypter.decrypt(wrapped, 'text')
      identities.push(...text.split('\n').filter(line => line.startsWith('AGE-SECRET-KEY-')))
    }
  }
  return identities
}

/** Pipes `source` through `transform` into `destination` via a `.partial` file renamed at the end. */
async function streamThrough(
  source: string,
  destination: string,
  transform: (input: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>
): Promise<void> {
  const partial = `${destination}.partial`
  try {
    const input = Readable.toWeb(createReadStream(source)) as ReadableStream<Uint8Array>
    const output = await transform(input)
    await (output as unknown as WebReadableStream<Uint8Array>).pipeTo(
      Writable.toWeb(createWriteStream(partial))
    )
    await fs.rename(partial, destination)
  } catch (error) {
    await fs.rm(partial, { force: true })
    throw error
  }
}

export async function decryptFile(
  source: string,
  destination: string,
  identities: string[]
): Promise<void> {
  const decrypter = new Decrypter()
  for (const identity of identities) decrypter.addIdentity(identity)
  await streamThrough(source, destination, input => decrypter.decrypt(input))
}
