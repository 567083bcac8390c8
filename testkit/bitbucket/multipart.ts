// Multipart request bodies as Bitbucket takes them: `multipart/form-data` (Downloads `files=`, snippet
// `file=` and form fields) and `multipart/related` (a snippet's JSON first, then its files).

export interface Part {
  headers: Record<string, string>
  /** The form field name (`Content-Disposition: form-data; name=...`). */
  name?: string
  /** `filename=` of Content-Disposition, else a Content-ID (quotes removed). */
  filename?: string
  body: Buffer
}

function parameter(header: string, key: string): string | undefined {
  const match = new RegExp(
    `(?:^|;)\\s*${key}\\*?=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`,
    'i'
  ).exec(header)
  if (!match) return undefined
  return (match[1] ?? match[2].trim()).replace(/\\(.)/g, '$1')
}

export function multipartKind(
  contentType: string | undefined
): 'form-data' | 'related' | undefined {
  const kind = /^multipart\/(form-data|related)\s*;/i.exec(contentType ?? '')?.[1]?.toLowerCase()
  return kind as 'form-data' | 'related' | undefined
}

/** The parts of a multipart body, or undefined when it is not one (no boundary, no closing line). */
export function parseMultipart(contentType: string | undefined, body: Buffer): Part[] | undefined {
  const boundary = parameter(contentType ?? '', 'boundary')
  if (!multipartKind(contentType) || !boundary) return undefined
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Part[] = []
  let at = body.indexOf(delimiter)
  if (at < 0) return undefined
  for (;;) {
    at += delimiter.length
    if (body.subarray(at, at + 2).toString() === '--') return parts
    const next = body.indexOf(delimiter, at)
    if (next < 0) return undefined
    // A part: CRLF, headers, a blank line, the content, CRLF before the next delimiter.
    const chunk = body.subarray(at + (body[at] === 13 ? 2 : 1), next)
    const blank = chunk.indexOf('\r\n\r\n')
    const split = blank >= 0 ? blank : chunk.indexOf('\n\n')
    if (split < 0) return undefined
    const headers: Record<string, string> = {}
    for (const line of chunk.subarray(0, split).toString('utf8').split(/\r?\n/)) {
      const colon = line.indexOf(':')
      if (colon > 0)
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let content = chunk.subarray(split + (blank >= 0 ? 4 : 2))
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2)
    else if (content.subarray(-1).toString() === '\n') content = content.subarray(0, -1)
    if (/^base64$/i.test(headers['content-transfer-encoding'] ?? ''))
      content = Buffer.from(content.toString('ascii'), 'base64')
    const disposition = headers['content-disposition'] ?? ''
    const contentId = headers['content-id']?.replace(/^[<"]|[>"]$/g, '')
    parts.push({
      headers,
      name: parameter(disposition, 'name'),
      filename: parameter(disposition, 'filename') ?? contentId,
      body: content
    })
    at = next
  }
}
