// A repository's Downloads (release files): listed over REST, uploaded with a multipart POST of
// `files` (a file of the same name is replaced), deleted; `GET .../downloads/{name}` answers 302 to a
// storage host of its own (as Bitbucket redirects to S3) that takes the signed URL as its only
// credential and, like S3, refuses a request that also carries an Authorization header.
import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as path from 'node:path'
import { errorBody } from './faults.js'
import { accountOf, stamp, type Account, type Download } from './metadata-state.js'
import { multipartKind, parseMultipart } from './multipart.js'
import { paginate } from './paging.js'
import {
  accountJson,
  isReply,
  link,
  noContent,
  notFound,
  repoOf,
  type Ctx,
  type Routes
} from './rest-context.js'
import type { Reply } from './rest-repository.js'
import { checkSignature, logStorage, signFields } from './signed-url.js'
import type { Repo, State } from './types.js'

const R = '/repositories/{workspace}/{repo_slug}'
const bare = (uuid: string) => uuid.replace(/[{}]/g, '')

export function downloadsOf(state: State, repo: Repo): Download[] {
  let list = state.metadata.downloads.get(repo.uuid)
  if (!list) state.metadata.downloads.set(repo.uuid, (list = []))
  return list
}

/** Stores the bytes and lists the file first; one of the same name is replaced, as Bitbucket does. */
export function storeDownload(
  state: State,
  repo: Repo,
  name: string,
  bytes: Buffer,
  user: Account,
  at?: string
): void {
  if (!name || name.includes('/')) throw new Error(`local Bitbucket: not a file name: ${name}`)
  const dir = path.join(state.root, '.downloads', bare(repo.uuid))
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, randomUUID())
  fs.writeFileSync(file, bytes)
  const list = downloadsOf(state, repo)
  const existing = list.findIndex(download => download.name === name)
  if (existing >= 0) fs.rmSync(list.splice(existing, 1)[0].file, { force: true })
  list.unshift({ name, size: bytes.length, file, user, createdOn: stamp(state.metadata, at) })
}

function listDownloads(ctx: Ctx): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const base = `${ctx.state.origin}/2.0/repositories/${repo.workspace}/${repo.slug}/downloads`
  const values = downloadsOf(ctx.state, repo).map(download => ({
    type: 'download',
    name: download.name,
    size: download.size,
    created_on: download.createdOn,
    user: accountJson(ctx.state, download.user),
    downloads: 0,
    links: { self: link(`${base}/${encodeURIComponent(download.name)}`) }
  }))
  return paginate(ctx, values)
}

function find(ctx: Ctx): { repo: Repo; download: Download } | Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const download = downloadsOf(ctx.state, repo).find(d => d.name === ctx.params.filename)
  return download ? { repo, download } : notFound(`No such file: ${ctx.params.filename}`)
}

function redirectToStorage(ctx: Ctx): Reply {
  const found = find(ctx)
  if (isReply(found)) return found
  const { repo, download } = found
  const key = `${bare(repo.uuid)}/${encodeURIComponent(download.name)}`
  const { exp, sig } = signFields(ctx.state, [key, download.file])
  const query = new URLSearchParams({
    AWSAccessKeyId: 'LOCALBITBUCKET',
    Expires: exp,
    Signature: sig
  })
  return [302, '', { Location: `${ctx.state.downloadsOrigin}/${key}?${query}` }]
}

function upload(ctx: Ctx): Reply {
  const repo = repoOf(ctx)
  if (isReply(repo)) return repo
  const type = ctx.headers['content-type']
  if (multipartKind(type) !== 'form-data')
    return [406, errorBody('Unsupported Content-Type. Use multipart/form-data.')]
  const parts = parseMultipart(type, ctx.body)
  const files = parts?.filter(part => part.name === 'files' && part.filename)
  if (!files || files.length === 0)
    return [400, errorBody('No files were uploaded (use the field name "files").')]
  const user = accountOf(ctx.state.metadata, repo.workspace, ctx.identity)
  for (const file of files)
    storeDownload(ctx.state, repo, path.basename(file.filename!), file.body, user)
  return [201, '']
}

function remove(ctx: Ctx): Reply {
  const found = find(ctx)
  if (isReply(found)) return found
  const list = downloadsOf(ctx.state, found.repo)
  list.splice(list.indexOf(found.download), 1)
  fs.rmSync(found.download.file, { force: true })
  return noContent()
}

export const downloadRoutes: Routes = {
  [`get ${R}/downloads`]: listDownloads,
  [`post ${R}/downloads`]: upload,
  [`get ${R}/downloads/{filename}`]: redirectToStorage,
  [`delete ${R}/downloads/{filename}`]: remove
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string): number {
  const text =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>${randomUUID().slice(0, 16).toUpperCase()}</RequestId></Error>`
  res.writeHead(status, { 'Content-Type': 'application/xml' }).end(text)
  return status
}

/** The Downloads storage host: a signed GET streams the file; anything else is an S3-style error. */
export function handleDownloadStorage(
  state: State,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL
): void {
  const log = (status: number) => logStorage(state, 'downloads', req, url, status)
  if (req.headers.authorization) {
    const message =
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified'
    return log(s3Error(res, 400, 'InvalidArgument', message))
  }
  const key = url.pathname.slice(1)
  const [uuid, name] = key.split('/')
  const download = [...state.metadata.downloads.entries()]
    .find(([repoUuid]) => bare(repoUuid) === uuid)?.[1]
    .find(d => encodeURIComponent(d.name) === name)
  const q = (field: string) => url.searchParams.get(field) ?? ''
  const verdict = download
    ? checkSignature(state, [key, download.file], q('Expires'), q('Signature'))
    : 'forged'
  if (req.method !== 'GET' || verdict === 'forged')
    return log(
      download || req.method !== 'GET'
        ? s3Error(
            res,
            403,
            'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided.'
          )
        : s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.')
    )
  if (verdict === 'expired') return log(s3Error(res, 403, 'AccessDenied', 'Request has expired'))
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': download!.size,
    'Content-Disposition': `attachment; filename="${download!.name.replace(/"/g, '')}"`
  })
  fs.createReadStream(download!.file).pipe(res)
  log(200)
}
