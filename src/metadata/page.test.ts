import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { ApiAccount, ApiComment, ArchivedPullRequest } from './layout.js'
import { PAGE_CSP, renderPullRequestPage, type PullRequestPageInput } from './page.js'
import { esc } from './page-parts.js'

/** What an attacker with access writes: it must show as these very characters and do nothing. */
const PAYLOAD = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> & 'it'`

const user = (name: string): ApiAccount => ({ display_name: name, uuid: `{${name}}` })
const ann = user('Ann')
const bob = user('Bob')

function archived(id: number, extra: Partial<ArchivedPullRequest> = {}): ArchivedPullRequest {
  return {
    pullRequest: {
      id,
      title: `Pull request ${id}`,
      state: 'OPEN',
      author: ann,
      source: { branch: { name: `feature-${id}` }, commit: { hash: 'aaaaaaaaaaaa' } },
      destination: { branch: { name: 'main' }, commit: { hash: 'bbbbbbbbbbbb' } },
      created_on: `2024-01-${String(id).padStart(2, '0')}T10:00:00.000000+00:00`,
      updated_on: `2024-02-${String(id).padStart(2, '0')}T10:00:00.000000+00:00`,
      participants: [{ user: bob, role: 'REVIEWER', approved: true, state: 'approved' }]
    },
    comments: [],
    activity: [],
    tasks: [],
    statuses: [],
    diffKept: false,
    ...extra
  }
}

function comment(id: number, raw: string, extra: Partial<ApiComment> = {}): ApiComment {
  return {
    id,
    content: { raw, markup: 'markdown', html: `<p>${raw}</p>` },
    user: ann,
    created_on: `2024-03-01T10:${String(id % 60).padStart(2, '0')}:00.000000+00:00`,
    ...extra
  }
}

function page(pullRequests: ArchivedPullRequest[], extra: Partial<PullRequestPageInput> = {}) {
  return renderPullRequestPage({
    repository: { workspace: 'acme', slug: 'api' },
    pullRequests,
    generatedAt: '2024-06-01T00:00:00Z',
    ...extra
  })
}

// A small tree of the page's own markup. Every attribute is quoted and every text escaped, so a
// strict tokenizer reads it whole; a stray `<` or an unbalanced tag is an error, which is a check too.
interface El {
  tag: string
  attrs: Record<string, string>
  children: (El | string)[]
  parent?: El
}
const VOID = new Set(['meta'])
const decode = (text: string) =>
  text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : "'"
  )

function parse(html: string): El {
  const root: El = { tag: '#root', attrs: {}, children: [] }
  let current = root
  const token = /<!DOCTYPE html>|<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z-]+="[^"<>]*")*)>|([^<]+)/gy
  let match: RegExpExecArray | null
  while (token.lastIndex < html.length) {
    const at = token.lastIndex
    match = token.exec(html)
    if (!match) throw new Error(`not the page's markup at ${at}: ${html.slice(at, at + 80)}`)
    const [, closing, tag, attrs, text] = match
    if (text !== undefined) current.children.push(decode(text))
    else if (tag && closing) {
      if (current.tag !== tag) throw new Error(`</${tag}> closes <${current.tag}> at ${at}`)
      current = current.parent!
    } else if (tag) {
      const el: El = { tag, attrs: {}, children: [], parent: current }
      for (const [, name, value] of (attrs ?? '').matchAll(/([a-z-]+)="([^"]*)"/g))
        el.attrs[name] = decode(value)
      current.children.push(el)
      if (!VOID.has(tag)) current = el
    }
  }
  if (current !== root) throw new Error(`<${current.tag}> is never closed`)
  return root
}

function all(root: El, match: (el: El) => boolean): El[] {
  const found: El[] = []
  const stack = [root]
  while (stack.length > 0) {
    const el = stack.pop()!
    if (match(el)) found.push(el)
    for (let i = el.children.length - 1; i >= 0; i--) {
      const child = el.children[i]
      if (typeof child !== 'string') stack.push(child)
    }
  }
  return found
}
const classed = (el: El, name: string) => (el.attrs.class ?? '').split(' ').includes(name)
const byId = (root: El, id: string) => {
  const found = all(root, el => el.attrs.id === id)
  if (found.length !== 1) throw new Error(`${found.length} elements with id ${id}`)
  return found[0]
}
const text = (el: El): string =>
  el.children.map(child => (typeof child === 'string' ? child : text(child))).join('')
/** The comment's own text, without its replies. */
const ownText = (el: El) =>
  el.children.filter((c): c is El => typeof c !== 'string' && classed(c, 'text'))
const enclosingComment = (el: El) => {
  let at = el.parent
  while (at && !(at.tag === 'li' && classed(at, 'comment'))) at = at.parent
  return at?.attrs.id
}

describe('renderPullRequestPage', () => {
  it('shows titles, comments, branch and user names, tasks and statuses as escaped text', () => {
    const evil = user(PAYLOAD)
    const html = page([
      archived(7, {
        pullRequest: {
          ...archived(7).pullRequest,
          title: PAYLOAD,
          description: PAYLOAD,
          author: evil,
          source: { branch: { name: PAYLOAD } },
          reason: PAYLOAD
        },
        comments: [
          comment(1, PAYLOAD, { user: evil }),
          {
            ...comment(2, 'plain words'),
            content: { raw: 'plain words', html: '<b onclick="x()">bold</b>' }
          },
          comment(3, PAYLOAD, { inline: { path: PAYLOAD, to: 1 } })
        ],
        activity: [{ update: { date: '2024-03-02T00:00:00Z', author: evil, reason: PAYLOAD } }],
        tasks: [{ id: 1, state: 'UNRESOLVED', content: { raw: PAYLOAD }, creator: evil }],
        statuses: [{ key: PAYLOAD, state: 'FAILED', name: PAYLOAD, url: `javascript:${PAYLOAD}` }]
      })
    ])
    expect(esc(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;')
    const root = parse(html)
    const tags = new Set(all(root, el => el.tag !== '#root').map(el => el.tag))
    const allowed =
      'html head meta title style body header h1 h2 h3 h4 p nav table thead tbody tr th td a main section dl dt dd div ol ul li span code bdi time pre'
    expect([...tags].filter(tag => !allowed.split(' ').includes(tag))).toEqual([])
    const attributes = new Set(all(root, () => true).flatMap(el => Object.keys(el.attrs)))
    const allowedAttributes = 'charset class content datetime href http-equiv id lang name'
    expect([...attributes].filter(name => !allowedAttributes.split(' ').includes(name))).toEqual([])
    for (const link of all(root, el => el.attrs.href !== undefined)) {
      expect(link.attrs.href).toMatch(/^#/)
      byId(root, link.attrs.href.slice(1))
    }
    expect(html).not.toMatch(/<(script|img|iframe|object|embed|link|form|svg)/i)
    expect(html).not.toContain('bold')
    expect(ownText(byId(root, 'c-7-1')).map(text)).toEqual([PAYLOAD])
    expect(ownText(byId(root, 'c-7-2')).map(text)).toEqual(['plain words'])
    const section = byId(root, 'pr-7')
    expect(text(all(section, el => el.tag === 'h2')[0])).toContain(PAYLOAD)
    expect(all(section, el => classed(el, 'branch')).map(text)).toContain(PAYLOAD)
    expect(all(section, el => classed(el, 'user')).map(text)).toContain(PAYLOAD)
    expect(all(section, el => el.tag === 'h4').map(text)).toEqual([PAYLOAD])
    expect(text(all(root, el => el.tag === 'title')[0])).toBe('Pull requests of acme/api')
    for (const place of ['tasks', 'statuses', 'activity'])
      expect(text(all(section, el => classed(el, place))[0])).toContain(PAYLOAD)
  })

  it('forbids scripts, images, forms and every load but its one hashed style', () => {
    const html = page([archived(1)])
    const root = parse(html)
    const head = all(root, el => el.tag === 'head')[0].children.filter(c => typeof c !== 'string')
    expect(head[0]).toMatchObject({ tag: 'meta', attrs: { charset: 'utf-8' } })
    expect(head[1]).toMatchObject({
      tag: 'meta',
      attrs: { 'http-equiv': 'Content-Security-Policy', content: PAGE_CSP }
    })
    const styles = all(root, el => el.tag === 'style')
    expect(styles).toHaveLength(1)
    const digest = createHash('sha256').update(text(styles[0])).digest('base64')
    expect(PAGE_CSP).toBe(
      `default-src 'none'; style-src 'sha256-${digest}'; img-src 'none'; base-uri 'none'; form-action 'none'`
    )
    expect(html).not.toMatch(/https?:|\ssrc=|url\(|@import|style="/)
  })

  it('lists the pull requests newest first, with an index linking to each', () => {
    const root = parse(page([archived(1), archived(12), archived(3)]))
    const sections = all(root, el => el.tag === 'section').map(el => el.attrs.id)
    expect(sections).toEqual(['pr-12', 'pr-3', 'pr-1'])
    const index = all(root, el => el.tag === 'nav')[0]
    const rows = all(index, el => el.tag === 'tr').slice(1)
    expect(rows.map(row => all(row, el => el.tag === 'a')[0].attrs.href)).toEqual([
      '#pr-12',
      '#pr-3',
      '#pr-1'
    ])
    const cells = all(rows[0], el => el.tag === 'td').map(text)
    expect(cells).toEqual([
      '#12',
      'Pull request 12',
      'OPEN',
      'Ann',
      'feature-12 → main',
      '2024-01-12 10:00 UTC',
      '2024-02-12 10:00 UTC',
      '0',
      '0',
      '1'
    ])
    expect(text(byId(root, 'pr-3'))).toContain('Approved byBob')
  })

  it('threads replies under their parent, in time order', () => {
    const root = parse(
      page([
        archived(7, {
          comments: [
            comment(4, 'second root'),
            comment(3, 'reply to the reply', { parent: { id: 2 } }),
            comment(2, 'reply', { parent: { id: 1 } }),
            comment(1, 'first root'),
            comment(5, 'reply to a comment not archived', { parent: { id: 99 } })
          ]
        })
      ])
    )
    expect(enclosingComment(byId(root, 'c-7-2'))).toBe('c-7-1')
    expect(enclosingComment(byId(root, 'c-7-3'))).toBe('c-7-2')
    expect(enclosingComment(byId(root, 'c-7-1'))).toBeUndefined()
    expect(enclosingComment(byId(root, 'c-7-5'))).toBeUndefined()
    expect(text(byId(root, 'c-7-5'))).toContain('reply to #99, not in the archive')
    const order = all(byId(root, 'pr-7'), el => classed(el, 'comment')).map(el => el.attrs.id)
    expect(order).toEqual(['c-7-1', 'c-7-2', 'c-7-3', 'c-7-4', 'c-7-5'])
  })

  it('groups inline comments on their file and line, replies under them', () => {
    const root = parse(
      page([
        archived(7, {
          comments: [
            comment(1, 'b line 10', { inline: { path: 'src/b.ts', to: 10, from: null } }),
            comment(2, 'b line 2', { inline: { path: 'src/b.ts', to: 2 } }),
            comment(3, 'b old 5', { inline: { path: 'src/b.ts', from: 5, to: null } }),
            comment(4, 'b file', { inline: { path: 'src/b.ts' } }),
            comment(5, 'a line 1', { inline: { path: 'src/a.ts', to: 1 } }),
            comment(6, 'b line 10 again', { inline: { path: 'src/b.ts', to: 10 } }),
            comment(7, 'reply', { parent: { id: 1 }, inline: { path: 'src/b.ts', to: 10 } }),
            comment(8, 'general')
          ]
        })
      ])
    )
    const files = all(byId(root, 'pr-7'), el => classed(el, 'file'))
    expect(files.map(file => text(all(file, el => el.tag === 'h4')[0]))).toEqual([
      'src/a.ts',
      'src/b.ts'
    ])
    const lines = all(files[1], el => classed(el, 'line')).map(line => ({
      at: text(all(line, el => classed(el, 'line-ref'))[0]),
      comments: all(line, el => classed(el, 'comment')).map(el => el.attrs.id)
    }))
    expect(lines).toEqual([
      { at: 'The whole file', comments: ['c-7-4'] },
      { at: 'Line 2 (new side)', comments: ['c-7-2'] },
      { at: 'Line 5 (old side)', comments: ['c-7-3'] },
      { at: 'Line 10 (new side)', comments: ['c-7-1', 'c-7-7', 'c-7-6'] }
    ])
    expect(enclosingComment(byId(root, 'c-7-7'))).toBe('c-7-1')
    expect(all(files[0], el => classed(el, 'comment')).map(el => el.attrs.id)).toEqual(['c-7-5'])
    expect(all(byId(root, 'c-7-8'), el => classed(el, 'line'))).toEqual([])
    expect(enclosingComment(byId(root, 'c-7-8'))).toBeUndefined()
  })

  it('marks a deleted comment deleted, shows none of its content, and keeps its replies', () => {
    const html = page([
      archived(7, {
        comments: [
          comment(1, 'leftover words', { deleted: true }),
          comment(2, 'still here', { parent: { id: 1 } })
        ]
      })
    ])
    const root = parse(html)
    const deleted = byId(root, 'c-7-1')
    expect(classed(deleted, 'deleted')).toBe(true)
    expect(text(deleted)).toContain('This comment was deleted.')
    expect(ownText(deleted)).toEqual([])
    expect(html).not.toContain('leftover words')
    expect(enclosingComment(byId(root, 'c-7-2'))).toBe('c-7-1')
  })

  it('lists activity in time order, tasks with their state, and build statuses', () => {
    const root = parse(
      page([
        archived(7, {
          comments: [comment(1, 'hello')],
          // As /activity lists it: newest first.
          activity: [
            { approval: { date: '2024-03-04T00:00:00Z', user: bob }, pull_request: { id: 7 } },
            { changes_request: { date: '2024-03-03T00:00:00Z', user: bob } },
            { comment: { id: 1, created_on: '2024-03-02T00:00:00Z', user: ann } },
            {
              update: {
                date: '2024-03-01T00:00:00Z',
                author: ann,
                state: 'OPEN',
                source: { branch: { name: 'feature' }, commit: { hash: 'abc' } },
                destination: { branch: { name: 'main' }, commit: { hash: 'def' } }
              }
            }
          ],
          tasks: [
            { id: 2, state: 'UNRESOLVED', content: { raw: 'write docs' }, creator: bob },
            {
              id: 1,
              state: 'RESOLVED',
              content: { raw: 'add tests' },
              creator: bob,
              comment: { id: 1 },
              resolved_by: ann,
              resolved_on: '2024-03-05T00:00:00Z'
            }
          ],
          statuses: [{ key: 'ci', state: 'SUCCESSFUL', name: 'Build', url: 'https://ci/1' }]
        })
      ])
    )
    const section = byId(root, 'pr-7')
    const activity = all(section, el => classed(el, 'activity'))[0]
    expect(all(activity, el => el.tag === 'li').map(text)).toEqual([
      '2024-03-01 00:00 UTC · Ann updated the pull request · state OPEN · feature abc → main def',
      '2024-03-02 00:00 UTC · Ann commented #1',
      '2024-03-03 00:00 UTC · Bob requested changes',
      '2024-03-04 00:00 UTC · Bob approved'
    ])
    const tasks = all(section, el => classed(el, 'task'))
    expect(tasks.map(task => [task.attrs.class, text(task).split('by ')[0]])).toEqual([
      ['task resolved', 'Resolvedadd tests'],
      ['task open', 'Openwrite docs']
    ])
    expect(all(tasks[0], el => el.tag === 'a')[0].attrs.href).toBe('#c-7-1')
    const status = all(section, el => classed(el, 'statuses'))[0]
    expect(
      all(status, el => el.tag === 'td')
        .map(text)
        .slice(0, 5)
    ).toEqual(['SUCCESSFUL', 'Build', 'ci', '', 'https://ci/1'])
  })

  it('shows a kept diff as preformatted text, and says where one is kept when not given', () => {
    const diff = 'diff --git a/x b/x\n--- a/x\n+++ b/x\n-<old> & "a"\n+<new>\n'
    const root = parse(
      page([archived(1), archived(2, { diffKept: true }), archived(3, { diffKept: true })], {
        diffs: new Map([[2, diff]])
      })
    )
    const diffs = (id: string) => all(byId(root, id), el => el.tag === 'pre')
    expect(diffs('pr-2').map(text)).toEqual([diff])
    expect(diffs('pr-1')).toEqual([])
    expect(diffs('pr-3')).toEqual([])
    expect(text(byId(root, 'pr-3'))).toContain('Kept beside this page in pull-requests/3.diff.')
  })

  it('gives the same bytes for the same pull requests in any order', () => {
    const prs = [
      archived(2, {
        comments: [comment(1, 'a'), comment(2, 'b', { parent: { id: 1 } }), comment(3, 'c')],
        tasks: [
          { id: 1, state: 'RESOLVED', created_on: '2024-03-01T00:00:00Z' },
          { id: 2, state: 'UNRESOLVED', created_on: '2024-03-01T00:00:00Z' }
        ]
      }),
      archived(1)
    ]
    const first = page(prs)
    expect(page(prs)).toBe(first)
    const shuffled = [...prs].reverse().map(pr => ({
      ...pr,
      comments: [...pr.comments].reverse(),
      tasks: [...pr.tasks].reverse()
    }))
    expect(page(shuffled)).toBe(first)
  })

  it('shows every comment of a damaged archive and survives missing fields', () => {
    const html = page([
      archived(1, {
        comments: [
          comment(1, 'in a cycle', { parent: { id: 2 } }),
          comment(2, 'in a cycle too', { parent: { id: 1 } }),
          comment(3, 'twice'),
          comment(3, 'twice')
        ]
      }),
      {
        pullRequest: { id: 2 },
        comments: [],
        activity: [],
        tasks: [],
        statuses: [],
        diffKept: false
      }
    ])
    const root = parse(html)
    expect(all(root, el => classed(el, 'comment')).map(el => el.attrs.id)).toEqual([
      'c-1-3',
      'c-1-1',
      'c-1-2'
    ])
    expect(text(byId(root, 'pr-2'))).toContain('No description.')
  })

  it('renders 1,500 pull requests with 40 comments each in linear time', () => {
    const many = Array.from({ length: 1500 }, (_, i) =>
      archived(i + 1, {
        comments: Array.from({ length: 40 }, (_, c) =>
          comment(c + 1, `comment ${c} <b>`, {
            ...(c % 4 === 1 ? { parent: { id: c } } : {}),
            ...(c % 4 === 2 ? { inline: { path: `src/f${c % 3}.ts`, to: c } } : {})
          })
        ),
        activity: Array.from({ length: 20 }, (_, a) => ({
          approval: { date: `2024-03-01T00:00:${String(a).padStart(2, '0')}Z`, user: bob }
        })),
        tasks: [{ id: 1, state: 'RESOLVED', content: { raw: 'task' }, creator: bob }]
      })
    )
    // One pull request with a reply chain 30,000 long, each comment in its activity and tasks: it
    // must not exhaust the stack, nor cost comments × comments.
    const chain = 30000
    many[0].comments = Array.from({ length: chain }, (_, c) =>
      comment(c + 1, 'chain', c > 0 ? { parent: { id: c } } : {})
    )
    many[0].activity = many[0].comments.map(c => ({ comment: c }))
    many[0].tasks = many[0].comments.map(c => ({
      id: c.id,
      state: 'RESOLVED',
      comment: { id: c.id }
    }))
    const started = performance.now()
    const html = page(many)
    const seconds = (performance.now() - started) / 1000
    expect(html).toContain('id="c-1500-40"')
    expect(html).toContain(`id="c-1-${chain}"`)
    expect(seconds).toBeLessThan(20)
  })
})

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** The page from a file:// address with JavaScript on, with everything it tries recorded. */
async function open(browser: Browser, dir: string, name: string, html: string) {
  const file = path.join(dir, name)
  fs.writeFileSync(file, html)
  const url = pathToFileURL(file).href
  const context = await browser.newContext({ javaScriptEnabled: true })
  const requests: string[] = []
  const errors: string[] = []
  context.on('request', request => requests.push(request.url()))
  // Nothing but the page itself is fetched, whatever it asks for.
  await context.route('**/*', route =>
    route.request().url() === url ? route.continue() : route.abort()
  )
  await context.addInitScript(
    `window.__violations = []; document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI))`
  )
  const tab = await context.newPage()
  tab.on('console', message => {
    if (message.type() === 'error') errors.push(message.text())
  })
  tab.on('pageerror', error => errors.push(error.message))
  await tab.goto(url, { waitUntil: 'load' })
  return {
    url,
    tab,
    requests,
    errors,
    violations: () => tab.evaluate('window.__violations') as Promise<string[]>,
    pwned: () => tab.evaluate('window.__pwned'),
    close: () => context.close()
  }
}

const count = (tab: Page, selector: string) =>
  tab.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`)

describe('the page in headless Chromium', () => {
  let browser: Browser
  let dir: string

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metadata-page-'))
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM })
    } catch (error) {
      throw new Error(
        `page.test.ts: Chromium could not be launched from ${CHROMIUM}; install it (apt-get install chromium) or set CHROMIUM_PATH. ${String(error).split('\n')[0]}`,
        { cause: error }
      )
    }
  })

  afterAll(async () => {
    await browser?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const evilPage = () =>
    page(
      [
        archived(7, {
          pullRequest: {
            ...archived(7).pullRequest,
            title: PAYLOAD,
            description: `Description ${PAYLOAD}`,
            source: { branch: { name: PAYLOAD } },
            author: user(PAYLOAD)
          },
          comments: [
            comment(1, PAYLOAD),
            comment(2, 'A reply under it', { parent: { id: 1 } }),
            comment(3, 'On a line', { inline: { path: 'src/a.ts', to: 3 } }),
            comment(4, 'gone', { deleted: true })
          ],
          diffKept: true
        }),
        archived(6)
      ],
      { diffs: new Map([[7, `+${PAYLOAD}\n`]]) }
    )

  it('shows the comments as text while nothing runs, loads or breaks the policy', async () => {
    const opened = await open(browser, dir, 'index.html', evilPage())
    const { tab } = opened
    try {
      expect(await tab.locator('#c-7-1 > .text').innerText()).toBe(PAYLOAD)
      expect(await tab.locator('#c-7-1 > .text').isVisible()).toBe(true)
      expect(await tab.locator('#c-7-1 #c-7-2 > .text').innerText()).toBe('A reply under it')
      expect(await tab.locator('.file .line #c-7-3 > .text').innerText()).toBe('On a line')
      expect(await tab.locator('#c-7-4').innerText()).toContain('This comment was deleted.')
      expect(await tab.locator('#pr-7 h2 bdi').innerText()).toBe(PAYLOAD)
      expect(await tab.locator('#pr-7 .facts code.branch').first().innerText()).toBe(PAYLOAD)
      expect(await tab.locator('#pr-7 pre.diff').innerText()).toBe(`+${PAYLOAD}\n`)
      expect(await tab.locator('nav a[href="#pr-7"]').first().isVisible()).toBe(true)

      expect(await opened.pwned()).toBeUndefined()
      expect(await count(tab, 'script, img, iframe, object, embed, link, form, svg, base')).toBe(0)
      const handlers = await tab.evaluate(
        `[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))`
      )
      expect(handlers).toEqual([])
      // The hashed style applies: the policy lets our own markup through.
      expect(
        await tab.evaluate(
          `getComputedStyle(document.querySelector('#c-7-1 > ol.replies')).borderLeftStyle`
        )
      ).toBe('solid')

      await tab.locator('nav a[href="#pr-6"]').first().click()
      expect(await tab.evaluate('location.hash')).toBe('#pr-6')
      expect(await opened.pwned()).toBeUndefined()
      expect(opened.requests).toEqual([opened.url])
      expect(await opened.violations()).toEqual([])
      expect(opened.errors).toEqual([])
    } finally {
      await opened.close()
    }
  })

  it('would see a script run, a request leave or the policy break (the checks can fail)', async () => {
    const html = evilPage()
    const raw = html.replace(esc(PAYLOAD), PAYLOAD)
    const unguarded = await open(
      browser,
      dir,
      'unguarded.html',
      raw.replace(/<meta http-equiv[^>]*>/, '')
    )
    try {
      expect(await unguarded.pwned()).toBe(2)
      expect(unguarded.requests).toEqual([unguarded.url, new URL('x', unguarded.url).href])
    } finally {
      await unguarded.close()
    }
    const guarded = await open(browser, dir, 'guarded.html', raw)
    try {
      expect(await guarded.pwned()).toBeUndefined()
      expect(await guarded.violations()).toEqual(
        expect.arrayContaining(['script-src-elem inline', 'img-src file', 'script-src-attr inline'])
      )
      expect(guarded.errors.length).toBeGreaterThan(0)
    } finally {
      await guarded.close()
    }
  })
})
