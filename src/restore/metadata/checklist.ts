// What a person must do by hand after a restore: what Bitbucket never hands out (webhook secrets,
// secured variables, the pipelines SSH key pair, from settings/index.json `secrets`), settings the
// backup could not read, and everything the restore could not write.
import { ArchivePaths } from '../../metadata/layout.js'
import type { ArchiveSnapshot } from './archive.js'
import { coded } from '../../shared/codes.js'

/** settings/index.json as the backup writes it (layout.ts SettingsIndex), read tolerantly: an older archive may lack a field. */
export interface SettingsIndex {
  collectedAt?: string
  endpoints?: { file: string; path: string; status: number; note?: string }[]
  secrets?: {
    webhooks?: { uuid?: string; url: string; description?: string }[]
    securedVariables?: { key: string; where: string }[]
    pipelinesKeyPair?: boolean
  }
}

export const SETTINGS_INDEX = ArchivePaths.settingsIndex

export async function readSettingsIndex(
  archive: ArchiveSnapshot
): Promise<SettingsIndex | undefined> {
  return (await archive.readJson<SettingsIndex>([SETTINGS_INDEX])).get(SETTINGS_INDEX)
}

/** The lines to re-enter, for the repository's settings; none when settings were not restored. */
export function reentryChecklist(index: SettingsIndex | undefined): string[] {
  const secrets = index?.secrets ?? {}
  const lines: string[] = []
  for (const hook of secrets.webhooks ?? [])
    lines.push(
      coded(
        'RS009',
        `re-enter the secret of webhook ${hook.url}${hook.description ? ` (${hook.description})` : ''}`
      )
    )
  for (const variable of secrets.securedVariables ?? [])
    lines.push(coded('RS009', `re-enter secured variable ${variable.key} (${variable.where})`))
  if (secrets.pipelinesKeyPair)
    lines.push(
      coded(
        'RS009',
        're-enter the pipelines SSH key pair (Repository settings → Pipelines → SSH keys), and its public key where it was trusted'
      )
    )
  // Only a repository's own settings are restored; a refusal elsewhere is no gap in them.
  for (const endpoint of index?.endpoints ?? [])
    if (endpoint.status === 403 && endpoint.file.startsWith('settings/repository/'))
      lines.push(
        coded(
          'MD403',
          `${endpoint.file} was not in the backup (Bitbucket answered HTTP 403 when it was read): set it by hand`
        )
      )
  return lines
}
