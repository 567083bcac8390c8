// Finds a credential anywhere a run left bytes: files (binary too), cache archives, logs, git command lines.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/** A secret in the forms it could leak: as is, and inside Basic headers for the given user names. */
export function secretForms(secret: string, userNames: string[] = []): string[] {
  const forms = [secret]
  for (const user of userNames) forms.push(Buffer.from(`${user}:${secret}`).toString('base64'))
  forms.push(Buffer.from(secret).toString('base64').replace(/=+$/, ''))
  return forms
}

export interface Leak {
  where: string
  form: string
}

export function scanBytes(where: string, bytes: Buffer, forms: string[]): Leak[] {
  return forms.filter(form => bytes.includes(Buffer.from(form))).map(form => ({ where, form }))
}

/** Every regular file under `dir`, read as bytes (packs, LFS objects and indexes included). */
export function scanTree(dir: string, forms: string[]): { leaks: Leak[]; files: number } {
  const leaks: Leak[] = []
  let files = 0
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) {
        files++
        leaks.push(...scanBytes(full, fs.readFileSync(full), forms))
      }
    }
  }
  if (fs.existsSync(dir)) walk(dir)
  return { leaks, files }
}

/** Unpacks a zstd tar (the cache's archive format) and scans what it holds, plus the archive itself. */
export function scanCacheArchive(name: string, archive: Buffer, forms: string[]): Leak[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbb-cache-scan-'))
  try {
    const file = path.join(dir, 'cache.tzst')
    fs.writeFileSync(file, archive)
    const out = path.join(dir, 'out')
    fs.mkdirSync(out)
    execFileSync('tar', ['--use-compress-program', 'zstd -d', '-xf', file, '-C', out])
    return [...scanBytes(name, archive, forms), ...scanTree(out, forms).leaks]
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A `git` first on PATH that appends its command line to a log and runs the real git: every git
 * process the action starts (and those git-lfs starts) is recorded.
 */
export function gitCommandLineRecorder(dir: string): { env: Record<string, string>; log: string } {
  const realGit = execFileSync('sh', ['-c', 'command -v git']).toString().trim()
  const bin = path.join(dir, 'git-recorder-bin')
  const log = path.join(dir, 'git-command-lines.log')
  fs.mkdirSync(bin, { recursive: true })
  fs.writeFileSync(
    path.join(bin, 'git'),
    `#!/bin/sh\nprintf '%s\\n' "git $*" >> '${log}'\nexec '${realGit}' "$@"\n`,
    { mode: 0o755 }
  )
  fs.writeFileSync(log, '')
  return { env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` }, log }
}
