// Inputs of the artifact target: retention, the per-job artifact budget and encryption.
import { Encrypter } from 'age-encryption'
import * as fs from 'node:fs'
import { Inputs } from '../shared/constants.js'
import { fail, parseInteger, readSecret, splitList, type InputSource } from './parse.js'
import type { ArtifactSettings } from './types.js'

/** The service's hard limit: artifacts per job. */
export const MAX_ARTIFACTS_PER_JOB = 500
const MAX_RETENTION_DAYS = 90

/** Why a recipient cannot be used, checked before any network call; undefined when it is valid. */
export function recipientProblem(text: string): string | undefined {
  if (!text.startsWith('age1')) return 'is not an age public key (age1...)'
  try {
    new Encrypter().addRecipient(text)
    return undefined
  } catch {
    return 'is not a valid age public key (age1...)'
  }
}

/** @actions/artifact refuses GitHub Enterprise Server; github.com and GHE.com data residency work. */
export function isGitHubEnterpriseServer(serverUrl: string | undefined): boolean {
  if (!serverUrl) return false
  const host = new URL(serverUrl).hostname.toLowerCase()
  return !(host === 'github.com' || host.endsWith('.ghe.com') || host.endsWith('.ghe.localhost'))
}

/** The event payload says whether the workflow's repository is public (anyone signed in can download). */
export function workflowRepositoryIsPublic(env: NodeJS.ProcessEnv): boolean {
  if (!env.GITHUB_EVENT_PATH) return false
  try {
    const event = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as {
      repository?: { private?: boolean; visibility?: string }
    }
    return event.repository?.private === false || event.repository?.visibility === 'public'
  } catch {
    return false
  }
}

export function parseArtifactSettings(source: InputSource, wanted: boolean): ArtifactSettings {
  const passphrase = readSecret(source, Inputs.EncryptionPassphrase)
  const recipients = splitList(source.get(Inputs.EncryptionRecipients).replace(/\s+/g, '\n'))
  if (passphrase && recipients.length > 0) {
    fail(
      Inputs.EncryptionRecipients,
      `is set together with ${Inputs.EncryptionPassphrase}`,
      'use one of them: a passphrase, or age recipients (age1...)',
      'IN003'
    )
  }
  for (const recipient of recipients) {
    const problem = recipientProblem(recipient)
    if (problem) {
      fail(
        Inputs.EncryptionRecipients,
        `"${recipient.slice(0, 24)}" ${problem}`,
        'expected public keys printed by age-keygen (age1...), separated by commas or new lines'
      )
    }
  }
  if (passphrase && passphrase.length < 16) {
    fail(
      Inputs.EncryptionPassphrase,
      'is shorter than 16 characters',
      'use a long random passphrase, e.g. the output of `age-keygen` or `openssl rand -base64 32`'
    )
  }
  const repositoryCap = Number(source.env.GITHUB_RETENTION_DAYS) || MAX_RETENTION_DAYS
  const retentionRaw = source.get(Inputs.RetentionDays)
  const requested = retentionRaw.trim()
    ? parseInteger(Inputs.RetentionDays, retentionRaw, MAX_RETENTION_DAYS, 1, MAX_RETENTION_DAYS)
    : repositoryCap
  if (wanted && isGitHubEnterpriseServer(source.env.GITHUB_SERVER_URL)) {
    fail(
      Inputs.Target,
      `artifact is not available on GitHub Enterprise Server (${source.env.GITHUB_SERVER_URL})`,
      'use target: github or directory there',
      'IN003'
    )
  }
  return {
    retentionDays: Math.min(requested, repositoryCap),
    maxArtifacts: parseInteger(
      Inputs.ArtifactLimit,
      source.get(Inputs.ArtifactLimit),
      MAX_ARTIFACTS_PER_JOB,
      2,
      MAX_ARTIFACTS_PER_JOB
    ),
    encryption: passphrase
      ? { passphrase, recipients: [] }
      : recipients.length
        ? { recipients }
        : undefined,
    publicWorkflowRepository: workflowRepositoryIsPublic(source.env),
    runId: source.env.GITHUB_RUN_ID ?? 'local',
    runAttempt: source.env.GITHUB_RUN_ATTEMPT ?? '1'
  }
}
