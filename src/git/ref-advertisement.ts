// A repository's refs from its smart HTTP ref advertisement, read by Node over kept-alive connections:
// the change check of an unchanged repository without starting git.
import * as http from 'node:http'
import * as https from 'node:https'

export interface RefAdvertisementOptions {
  /** The Authorization value for a request to `url`, or undefined to send none (another origin). */
  authorization(url: string): Promise<string | undefined>
  /** Connections kept open to one origin (the number of checks in flight). */
  maxSockets: number
  timeoutMs?: number
  /** Largest advertisement read (bytes); a bigger one is left to git. */
  maxBytes?: number
}

export interface RefAdvertisementClient {
  /**
   * `<oid>\t<ref>` lines as `git ls-remote` prints them on protocol v0 (HEAD and peeled tags
   * included), or undefined whenever the answer is anything but a plain v0 advertisement (an error
   * status, a redirect, another content type, a malformed line, a network error): the caller then
   * asks git, whose own rules, retries and messages apply.
   */
  advertisedRefs(url: string): Promise<string[] | undefined>
  close(): void
}

const ADVERTISEMENT_TYPE = 'application/x-git-upload-pack-advertisement'
const REF_LINE = /^([0-9a-f]{40}|[0-9a-f]{64}) ([^\0\n]+)$/

/** Splits pkt-lines: 4 hex digits of length (header included), `0000` a flush. Undefined if malformed. */
export function pktLines(body: Buffer): (string | null)[] | undefined {
  const lines: (string | null)[] = []
  for (let offset = 0; offset < body.length;) {
    const header = body.toString('latin1', offset, offset + 4)
    if (!/^[0-9a-f]{4}$/.test(header)) return undefined
    const length = Number.parseInt(header, 16)
    if (length === 0) {
      lines.push(null)
      offset += 4
      continue
    }
    if (length < 4 || offset + length > body.length) return undefined
    lines.push(body.toString('utf8', offset + 4, offset + length))
    offset += length
  }
  return lines
}

/** The refs of a v0 upload-pack advertisement (`# service=` preamble, optional `version 1`). */
function parseAdvertisement(body: Buffer): string[] | undefined {
  const lines = pktLines(body)
  if (!lines || lines[0] !== '# service=git-upload-pack\n' || lines[1] !== null) return undefined
  let rest = lines.slice(2)
  if (rest[0] === 'version 1\n') rest = rest.slice(1)
  if (rest[rest.length - 1] !== null) return undefined
  rest = rest.slice(0, -1)
  const refs: string[] = []
  for (const [index, raw] of rest.entries()) {
    if (raw === null) return undefined
    // The first line carries the capabilities after a NUL.
    const line = (index === 0 ? raw.split('\0')[0] : raw).replace(/\n$/, '')
    const match = REF_LINE.exec(line)
    if (!match) return undefined
    // An empty repository advertises only its capabilities, under a zero object name.
    if (index === 0 && match[2] === 'capabilities^{}' && /^0+$/.test(match[1])) continue
    refs.push(`${match[1]}\t${match[2]}`)
  }
  return refs
}

/** True when the environment routes HTTP through a proxy: git honours it, Node's http does not. */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'].some(
    name => Boolean(env[name])
  )
}

export function createRefAdvertisementClient(
  options: RefAdvertisementOptions
): RefAdvertisementClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets }
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) }
  const timeoutMs = options.timeoutMs ?? 60_000
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024

  async function advertisedRefs(url: string): Promise<string[] | undefined> {
    const target = new URL(`${url.replace(/\/+$/, '')}/info/refs`)
    if ((target.protocol !== 'https:' && target.protocol !== 'http:') || target.username) {
      return undefined
    }
    target.searchParams.set('service', 'git-upload-pack')
    const authorization = await options.authorization(target.href)
    const request = target.protocol === 'https:' ? https.request : http.request
    return new Promise(resolve => {
      const req = request(
        target,
        {
          agent: agents[target.protocol as 'http:' | 'https:'],
          headers: {
            Accept: ADVERTISEMENT_TYPE,
            'User-Agent': 'git/2 (bitbucket-backup)',
            ...(authorization ? { Authorization: authorization } : {})
          },
          timeout: timeoutMs
        },
        res => {
          const type = (res.headers['content-type'] ?? '').split(';')[0].trim()
          if (res.statusCode !== 200 || type !== ADVERTISEMENT_TYPE) {
            // Redirects are not followed: git decides where its credential may go.
            res.resume()
            return resolve(undefined)
          }
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > maxBytes) {
              req.destroy()
              return resolve(undefined)
            }
            chunks.push(chunk)
          })
          res.on('end', () => resolve(parseAdvertisement(Buffer.concat(chunks))))
          res.on('error', () => resolve(undefined))
        }
      )
      req.on('timeout', () => req.destroy())
      req.on('error', () => resolve(undefined))
      req.end()
    })
  }

  return {
    advertisedRefs,
    close: () => {
      for (const agent of Object.values(agents)) agent.destroy()
    }
  }
}
