// Downloads back from the archive, byte for byte: each file's size and SHA-256 checked against
// downloads/index.json before it is uploaded (a multipart POST of `files`, as Bitbucket takes them).
// A file of the same name and size on the destination is left as it is: uploading it again would
// replace it with the same bytes.
import { openAsBlob } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { ArchivePaths, type ArchivedDownload } from '../../metadata/layout.js'
import { attempt, count, listAll, type MetadataContext } from './context.js'

export async function restoreDownloads(context: MetadataContext): Promise<void> {
  const index = (
    await context.archive.readJson<ArchivedDownload[]>([ArchivePaths.downloadsIndex])
  ).get(ArchivePaths.downloadsIndex)
  if (!index || index.length === 0) return
  const { api } = context
  let present = new Map<string, number | undefined>()
  const listed = await attempt(context, 'Downloads', async () => {
    const existing = await listAll<{ name: string; size?: number }>(api, '/downloads')
    present = new Map(existing.map(download => [download.name, download.size]))
  })
  if (!listed) return
  const dir = await fs.mkdtemp(path.join(context.scratch, 'downloads-'))
  try {
    for (const [n, download] of index.entries()) {
      if (present.get(download.name) === download.size) {
        count(context, 'Downloads')
        continue
      }
      const file = path.join(dir, String(n))
      const written = await attempt(context, `Download ${download.name}`, async () => {
        const saved = await context.archive.saveFile(ArchivePaths.downloadFile(download.name), file)
        if (saved.size !== download.size || saved.sha256 !== download.sha256)
          throw new Error(
            `the archive holds ${saved.size} bytes with SHA-256 ${saved.sha256}, but its index says ${download.size} bytes with ${download.sha256}`
          )
        const form = new FormData()
        form.append('files', await openAsBlob(file), download.name)
        await api.client.getJson(`${api.base}/downloads`, { method: 'POST', form })
      })
      await fs.rm(file, { force: true })
      if (written) count(context, 'Downloads')
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}
