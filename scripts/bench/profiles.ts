// The workspaces of many repositories: the no-change scenarios back them up again and again, the
// small-disk scenario backs up the mixed one onto a small disk.
import {
  mixedWorkspaceClasses,
  planRepositories,
  smallRepositoriesClass,
  type RepositorySpec
} from '../../testkit/bitbucket/generate-workspace.js'
import type { BenchArgs } from './args.js'
import { MB } from './format.js'

/** The workspace of a no-change scenario. */
export interface ManyProfile {
  key: 'many' | 'tiny'
  heading: string
  description: string
  specs: RepositorySpec[]
  /** Also time raw `git ls-remote` of every repository (the check's floor). */
  baselines: boolean
}

export function manyProfiles(args: BenchArgs): ManyProfile[] {
  const { counts, manyCount } = args
  // The mixed workspace's proportions (2/3 small, 1/4 medium, 1/12 large with LFS) at manyCount.
  const small = Math.round(
    (manyCount * counts.small) / (counts.small + counts.medium + counts.large)
  )
  const large = Math.round(
    (manyCount * counts.large) / (counts.small + counts.medium + counts.large)
  )
  const mix = planRepositories(
    mixedWorkspaceClasses({ small, medium: manyCount - small - large, large }),
    'many'
  )
  const gitMb = mix.reduce((sum, spec) => sum + spec.gitBytes, 0) / MB
  const lfsMb = mix.reduce((sum, spec) => sum + spec.lfsBytes, 0) / MB
  return [
    {
      key: 'many',
      heading: `${manyCount.toLocaleString('en')} repositories of the mixed workspace's sizes`,
      description:
        `${manyCount.toLocaleString('en')} repositories in the mixed workspace's proportions and sizes ` +
        `(${small} small, ${manyCount - small - large} medium, ${large} large with LFS; ` +
        `${(gitMb / 1024).toFixed(2)} GB of git and ${(lfsMb / 1024).toFixed(2)} GB of LFS, ` +
        `${((gitMb + lfsMb) / manyCount) | 0 || '<1'} MB a repository on average)`,
      specs: mix,
      baselines: true
    },
    {
      key: 'tiny',
      heading: `${manyCount.toLocaleString('en')} tiny repositories (the worst case for the no-change share)`,
      description:
        `${manyCount.toLocaleString('en')} repositories of 10 to 50 KB (two commits and a branch each), ` +
        'where a full clone costs little more than a ref check',
      specs: planRepositories(smallRepositoriesClass(manyCount), 'tiny'),
      baselines: false
    }
  ]
}
