// The inputs and outputs tables of README.md (from action.yml) and docs/restore.md (from
// restore/action.yml), generated between marker comments: `<!-- inputs:start -->` …
// `<!-- inputs:end -->` and `<!-- outputs:start -->` … `<!-- outputs:end -->`. Everything outside
// the markers is written by hand; everything between them only by `npm run docs`.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'

export interface ActionMetadata {
  inputs?: Record<string, { description: string; required?: boolean; default?: string }>
  outputs?: Record<string, { description: string }>
}

/** Each document with generated tables, and the action metadata they come from (repository paths). */
export const GENERATED_DOCS: readonly { doc: string; action: string }[] = [
  { doc: 'README.md', action: 'action.yml' },
  { doc: 'docs/restore.md', action: 'restore/action.yml' }
]

export const startMarker = (kind: 'inputs' | 'outputs'): string => `<!-- ${kind}:start -->`
export const endMarker = (kind: 'inputs' | 'outputs'): string => `<!-- ${kind}:end -->`

/** Text as one markdown table cell: one line, `<` and `>` as entities, `|` escaped. */
function cell(text: string): string {
  return text
    .trim()
    .replace(/\s*\n\s*/g, ' ')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
}

/** A description as a cell, with the action's own hyphenated input and output names as code. */
function description(text: string, action: ActionMetadata): string {
  const names = [...Object.keys(action.inputs ?? {}), ...Object.keys(action.outputs ?? {})]
    .filter(name => name.includes('-'))
    .sort((a, b) => b.length - a.length)
  if (names.length === 0) return cell(text)
  const pattern = new RegExp(`(?<![\\w\`-])(${names.join('|')})(?![\\w\`-])`, 'g')
  return cell(text).replace(pattern, '`$1`')
}

/** The inputs table: name, default (`(required)` for a required input), description. */
export function inputsTable(action: ActionMetadata): string {
  const rows = Object.entries(action.inputs ?? {}).map(([name, spec]) => {
    const fallback = spec.required
      ? '(required)'
      : spec.default !== undefined && spec.default !== ''
        ? `\`${cell(String(spec.default))}\``
        : ''
    return `| \`${name}\` | ${fallback} | ${description(spec.description, action)} |`
  })
  return ['| input | default | description |', '| --- | --- | --- |', ...rows].join('\n')
}

/** The outputs table: name, description. */
export function outputsTable(action: ActionMetadata): string {
  const rows = Object.entries(action.outputs ?? {}).map(
    ([name, spec]) => `| \`${name}\` | ${description(spec.description, action)} |`
  )
  return ['| output | description |', '| --- | --- |', ...rows].join('\n')
}

/** The document with the text between each pair of markers replaced by the generated table. */
export function withTables(doc: string, action: ActionMetadata, docName: string): string {
  let text = doc
  for (const [kind, table] of [
    ['inputs', inputsTable(action)],
    ['outputs', outputsTable(action)]
  ] as const) {
    const start = startMarker(kind)
    const end = endMarker(kind)
    const from = text.indexOf(start)
    const to = text.indexOf(end)
    if (from < 0 || to < from || text.indexOf(start, from + 1) >= 0) {
      throw new Error(`${docName}: expected one ${start} followed by one ${end}`)
    }
    text = `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`
  }
  return text
}

export function readAction(file: string): ActionMetadata {
  return parse(fs.readFileSync(file, 'utf8')) as ActionMetadata
}

/** Lines of `expected` that `actual` lacks, and lines of `actual` that `expected` lacks. */
function lineDifference(actual: string, expected: string): { missing: string[]; extra: string[] } {
  const actualLines = new Set(actual.split('\n'))
  const expectedLines = new Set(expected.split('\n'))
  return {
    missing: [...expectedLines].filter(line => !actualLines.has(line)),
    extra: [...actualLines].filter(line => !expectedLines.has(line))
  }
}

/**
 * One message per document whose tables differ from its action metadata (none when all are in
 * sync): which rows the metadata gives that the document lacks, and which it has that it should not.
 */
export function checkDocs(root: string): string[] {
  const messages: string[] = []
  for (const { doc, action } of GENERATED_DOCS) {
    const current = fs.readFileSync(path.join(root, doc), 'utf8')
    let expected: string
    try {
      expected = withTables(current, readAction(path.join(root, action)), doc)
    } catch (error) {
      messages.push((error as Error).message)
      continue
    }
    if (current === expected) continue
    const { missing, extra } = lineDifference(current, expected)
    messages.push(
      [
        `${doc} is out of date with ${action} (run npm run docs):`,
        ...missing.map(line => `  + ${line}`),
        ...extra.map(line => `  - ${line}`)
      ].join('\n')
    )
  }
  return messages
}

/** Rewrites the tables of every document; returns the documents that changed. */
export function writeDocs(root: string): string[] {
  const changed: string[] = []
  for (const { doc, action } of GENERATED_DOCS) {
    const file = path.join(root, doc)
    const current = fs.readFileSync(file, 'utf8')
    const expected = withTables(current, readAction(path.join(root, action)), doc)
    if (current === expected) continue
    fs.writeFileSync(file, expected)
    changed.push(doc)
  }
  return changed
}
