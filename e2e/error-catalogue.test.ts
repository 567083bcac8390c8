// Every code a message ends with leads to its entry in docs/troubleshooting.md, every entry there
// names a registered code, and every registered code is printed: shown on a deliberately broken
// catalogue (e2e/fixtures/error-catalogue) and on the action itself.
import { describe, expect, it } from '@jest/globals'
import * as path from 'node:path'
import { projectRoot } from '../testkit/action-runner.js'
import { catalogueProblems, codesUsedIn, registryOf } from '../testkit/error-catalogue.js'
import { CODES } from '../src/shared/codes.js'

describe('the error catalogue', () => {
  it('names each code without an entry, each entry without a code, and each code nobody prints', () => {
    const fixture = path.join(projectRoot, 'e2e', 'fixtures', 'error-catalogue')
    expect(catalogueProblems(fixture).sort()).toEqual(
      [
        'ZZ999 (used in src/talk.ts) is not in src/shared/codes.ts',
        'AB002 has no entry in docs/troubleshooting.md: add <a id="AB002"></a> and "### AB002: A message without an entry" under "## Error catalogue"',
        'AB003 is in src/shared/codes.ts but no message uses it',
        'AB004\'s entry lacks its anchor: put <a id="AB004"></a> above its heading',
        'AB005\'s entry is titled "A title the docs changed", the registry says "The title the registry gives"',
        'CD001 has an entry in docs/troubleshooting.md but is not in src/shared/codes.ts',
        'an entry names no code: "### What to do when nothing works"'
      ].sort()
    )
  })

  it('holds for the action: every code printed has its entry, and every entry its code', () => {
    expect(catalogueProblems(projectRoot)).toEqual([])
  })

  it('reads the registry the action uses, and finds the codes the sources print', () => {
    // The text the check reads is the object the code imports: no code is missed by the parse.
    expect(Object.fromEntries(registryOf(projectRoot))).toEqual(CODES)
    const used = codesUsedIn(projectRoot)
    expect(used.get('IN004')).toBe('src/settings/parse.ts')
    expect(used.get('BB401')).toBe('src/bitbucket/errors.ts')
  })
})
