// What the metadata tests share: credentials holding the scopes the spec names, and a small REST
// client that never follows redirects (a test looks at each 302 itself).
import type { LocalBitbucket } from './index.js'
import { openapiSubset } from './openapi.js'

export const basic = (user: string, secret: string) =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`

/** Every API token scope any operation of the subset lists. */
export const ALL_API_TOKEN_SCOPES = [
  ...new Set(
    Object.values(openapiSubset.paths).flatMap(methods =>
      Object.values(methods).flatMap(op => op['x-atlassian-oauth2-scopes']?.[0]?.scopes ?? [])
    )
  )
]

/** An API token for `username` (its email `<username>@example.com`) with these scopes. */
export function apiToken(bb: LocalBitbucket, username: string, scopes: string[]): string {
  const token = `ATATT-${username}-${scopes.length}-${Math.random().toString(36).slice(2)}`
  bb.addApiToken({ email: `${username}@example.com`, username, token, scopes })
  return basic(`${username}@example.com`, token)
}

/** Answers as tests read them: JSON of any shape the spec allows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any

export interface Answer {
  status: number
  headers: Headers
  text: string
  json: Json
}

export async function call(
  bb: LocalBitbucket,
  authorization: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json'
): Promise<Answer> {
  const response = await fetch(path.startsWith('http') ? path : `${bb.apiUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      ...(authorization ? { Authorization: authorization } : {}),
      ...(body !== undefined ? { 'Content-Type': contentType } : {})
    },
    body:
      body === undefined || typeof body === 'string' || Buffer.isBuffer(body)
        ? (body as string | Buffer | undefined)
        : JSON.stringify(body)
  })
  const text = await response.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Every value of a paged collection, following `next` as an opaque URL; also how many pages it took. */
export async function walk(
  bb: LocalBitbucket,
  authorization: string,
  path: string
): Promise<{ values: Json[]; pages: number }> {
  const values: unknown[] = []
  let next: string | undefined = path
  let pages = 0
  while (next) {
    const answer = await call(bb, authorization, 'GET', next)
    if (answer.status !== 200) throw new Error(`${next} answered ${answer.status}: ${answer.text}`)
    values.push(...answer.json.values)
    next = answer.json.next
    pages++
  }
  return { values, pages }
}
