// Installs what a fresh clone lacks before `npm test` or `npm run demo`: npm packages, git-lfs, Node 24.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function has(command, args = ['--version']) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0
}

function run(command, args) {
  console.log(`ensure-tools: ${command} ${args.join(' ')}`)
  execFileSync(command, args, { cwd: root, stdio: 'inherit' })
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) run('npm', ['ci'])
if (!existsSync(join(root, 'node_modules', 'node', 'bin', 'node'))) run('npm', ['rebuild', 'node'])

/** Installs a Debian package when `ready()` is false; a clear message and exit when it cannot. */
function ensurePackage(name, ready, advice) {
  if (ready()) return
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  const sudo = isRoot ? [] : has('sudo', ['-n', 'true']) ? ['sudo', '-n'] : null
  if (sudo && has('apt-get', ['--version'])) {
    const [command, ...prefix] = [...sudo, 'apt-get']
    run(command, [...prefix, 'update', '-qq'])
    run(command, [...prefix, 'install', '-y', '-qq', name])
  }
  if (!ready()) {
    console.error(`ensure-tools: ${name} is missing and could not be installed here. ${advice}`)
    process.exit(1)
  }
}

ensurePackage(
  'git-lfs',
  () => has('git', ['lfs', 'version']),
  'Install it (https://git-lfs.com, or `sudo apt-get install git-lfs`, `brew install git-lfs`) and run the command again.'
)
// The tests prove that the standard age tool opens encrypted backups, as the README promises.
ensurePackage(
  'age',
  () => has('age', ['--version']) && has('age-keygen', ['--version']),
  'Install it (https://age-encryption.org, or `sudo apt-get install age`, `brew install age`) and run the command again.'
)
// `npm run bench` lists the workspace for raw git's floor with curl (scripts/bench/git.sh).
if (process.argv.includes('--bench')) {
  ensurePackage(
    'curl',
    () => has('curl'),
    'Install it (`sudo apt-get install curl`, `brew install curl`) and run the command again.'
  )
}
