// Reads the error catalogue three ways: the registry (src/shared/codes.ts), the codes the sources
// print, and the entries of docs/troubleshooting.md; says in one line each where they disagree.
import * as fs from 'node:fs'
import * as path from 'node:path'

/** A code as the sources print it: `'GH001'` handed to coded(), or `[GH001]` in a literal line. */
const USED_CODE = /['"`]([A-Z]{2,5}\d{3})['"`]|\[([A-Z]{2,5}\d{3})\]/g
/** `  BB401: 'Bitbucket rejected the credential',` in the registry's object. */
const REGISTRY_LINE = /^\s+([A-Z]{2,5}\d{3}): (['"])(.*)\2,?$/gm
/** The section of docs/troubleshooting.md that holds the entries. */
const CATALOGUE_HEADING = '## Error catalogue'
const REGISTRY_FILE = path.join('src', 'shared', 'codes.ts')

export interface CatalogueEntry {
  code: string
  title: string
  /** Whether `<a id="CODE"></a>` stands right above the heading (the link the code makes). */
  anchored: boolean
  /** The entry's text below its heading, up to the next entry: what it means, the cause, the fix. */
  body: string
}

/** Code → title, as src/shared/codes.ts declares them. */
export function registryOf(root: string): Map<string, string> {
  const text = fs.readFileSync(path.join(root, REGISTRY_FILE), 'utf8')
  return new Map([...text.matchAll(REGISTRY_LINE)].map(match => [match[1], match[3]]))
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile() && /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name))
    .map(entry => path.join(entry.parentPath, entry.name))
}

/** Every code the sources (tests and the registry aside) use → the first file that uses it. */
export function codesUsedIn(root: string): Map<string, string> {
  const used = new Map<string, string>()
  const registry = path.join(root, REGISTRY_FILE)
  for (const file of sourceFiles(path.join(root, 'src')).sort()) {
    if (file === registry) continue
    for (const match of fs.readFileSync(file, 'utf8').matchAll(USED_CODE)) {
      const code = match[1] ?? match[2]
      if (!used.has(code)) used.set(code, path.relative(root, file))
    }
  }
  return used
}

/** The entries under `## Error catalogue`, and every heading there that names no code. */
export function catalogueOf(markdown: string): {
  entries: CatalogueEntry[]
  uncoded: string[]
} {
  const lines = markdown.split('\n')
  const start = lines.indexOf(CATALOGUE_HEADING)
  if (start < 0) return { entries: [], uncoded: [`no "${CATALOGUE_HEADING}" section`] }
  const entries: CatalogueEntry[] = []
  const uncoded: string[] = []
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index]
    if (/^## /.test(line)) break
    if (!/^#{3,} /.test(line)) continue
    const heading = /^### ([A-Z]{2,5}\d{3}): (.+)$/.exec(line)
    if (!heading) {
      uncoded.push(line)
      continue
    }
    let above = index - 1
    while (above > start && lines[above].trim() === '') above--
    let end = index + 1
    while (end < lines.length && !/^(#{2,} |<a id=)/.test(lines[end])) end++
    entries.push({
      code: heading[1],
      title: heading[2],
      anchored: lines[above].trim() === `<a id="${heading[1]}"></a>`,
      body: lines
        .slice(index + 1, end)
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim()
    })
  }
  return { entries, uncoded }
}

/** The entry a printed code leads to, as a reader following `troubleshooting.md#CODE` finds it. */
export function entryFor(markdown: string, code: string): CatalogueEntry | undefined {
  return catalogueOf(markdown).entries.find(entry => entry.code === code && entry.anchored)
}

/**
 * Everything that keeps a code from leading to its entry, one line each, naming the code and what
 * to add; empty when the registry, the sources and the catalogue agree.
 */
export function catalogueProblems(root: string, docsFile = 'docs/troubleshooting.md'): string[] {
  const registry = registryOf(root)
  const used = codesUsedIn(root)
  const docs = path.join(root, docsFile)
  const { entries, uncoded } = catalogueOf(fs.readFileSync(docs, 'utf8'))
  const problems: string[] = []
  for (const [code, file] of used) {
    if (!registry.has(code)) problems.push(`${code} (used in ${file}) is not in ${REGISTRY_FILE}`)
  }
  const seen = new Map<string, CatalogueEntry>()
  for (const entry of entries) {
    if (seen.has(entry.code)) problems.push(`${entry.code} has two entries in ${docsFile}`)
    seen.set(entry.code, entry)
  }
  for (const [code, title] of registry) {
    const entry = seen.get(code)
    if (!entry) {
      problems.push(
        `${code} has no entry in ${docsFile}: add <a id="${code}"></a> and "### ${code}: ${title}" under "${CATALOGUE_HEADING}"`
      )
    } else if (!entry.anchored) {
      problems.push(`${code}'s entry lacks its anchor: put <a id="${code}"></a> above its heading`)
    } else if (entry.title !== title) {
      problems.push(`${code}'s entry is titled "${entry.title}", the registry says "${title}"`)
    }
    if (!used.has(code)) problems.push(`${code} is in ${REGISTRY_FILE} but no message uses it`)
  }
  for (const entry of entries) {
    if (!registry.has(entry.code)) {
      problems.push(`${entry.code} has an entry in ${docsFile} but is not in ${REGISTRY_FILE}`)
    }
  }
  for (const heading of uncoded) problems.push(`an entry names no code: "${heading}"`)
  return problems
}
