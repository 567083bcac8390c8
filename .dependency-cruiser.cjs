// The boundaries of src/ (docs/architecture.md): `npm run lint` fails on a folder cycle or an upward import.
/** Tests may reach anywhere; the rules are about what ships. */
const shipped = { path: '^src/', pathNot: '\\.test\\.ts$' }

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Folders form layers: a folder that imports another is never imported back by it.',
      severity: 'error',
      scope: 'folder',
      from: shipped,
      to: { circular: true }
    },
    {
      name: 'no-module-cycle',
      comment: 'Modules import each other one way.',
      severity: 'error',
      from: shipped,
      to: { circular: true }
    },
    {
      name: 'no-import-from-entry',
      comment:
        'Only the entry points (src/index.ts, src/main.ts) live at the top of src/, and nothing imports them.',
      severity: 'error',
      from: { path: '^src/.+/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/[^/]+$' }
    },
    {
      name: 'no-import-from-parent-folder',
      comment:
        'A folder inside another (src/targets/artifact) imports siblings or folders below, never its parent.',
      severity: 'error',
      from: { path: '^src/([^/]+)/[^/]+/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/$1/[^/]+$' }
    },
    {
      name: 'actions-core-at-the-edges',
      comment:
        'The step talks to the runner from its entry points, the report (outputs, summary) and credentials (masking): services receive a Log.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot:
          '^src/(index|main)\\.ts$|^src/restore/action\\.ts$|^src/report/report\\.ts$|^src/credentials/credentials\\.ts$|\\.test\\.ts$'
      },
      to: { path: '@actions/core' }
    },
    {
      name: 'no-test-code-in-src',
      comment: 'What ships never imports the stand-ins or the tests.',
      severity: 'error',
      from: shipped,
      to: { path: '^(testkit|e2e)/|\\.test\\.ts$' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
