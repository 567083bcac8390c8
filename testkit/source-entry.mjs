// The action's entry run from src/ (TypeScript through tsx) instead of the bundle in dist/, so a
// test can run the action as the runner does without a rebuild: `runAction(inputs, { entry })`.
import { register } from 'tsx/esm/api'

register()
await import('../src/index.ts')
