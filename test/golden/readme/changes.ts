/**
 * Intended differences from the outputs recorded before issue 17 (recorded.json), each named with its reason.
 *
 * The golden test applies these to the recorded outputs before comparing, so every change of behaviour a user would
 * see is listed here on purpose, never absorbed by re-recording. Keep each edit as narrow as the change itself.
 */
import type {ExampleRecord, ServeRecord} from './examples.js'

export interface IntendedChange {
  /** The example id (see EXAMPLES), or 'serve'. */
  example: string
  /** Why the output changes: the issue and the user-visible reason. */
  why: string
  /** The arguments now run, when the README command itself changed (e.g. a renamed flag). */
  args?: string[]
  /** The recorded output as it should now be. */
  edit?: <R extends ExampleRecord | ServeRecord>(recorded: R) => R
}

export const CHANGES: IntendedChange[] = [
  {
    example: 'validate-sarif',
    why: "issue 12: name-format also warns about a model name Azure ML's REST API refuses (a '.'), and its rule description says so",
    edit: (r) => ({
      ...r,
      stdout: (r as {stdout: string}).stdout.replace(
        'The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case).',
        "The asset name does not match the naming pattern (models: ^[A-Za-z][A-Za-z0-9_.-]{0,254}$, others lower case); a warning for a model name Azure ML's REST API refuses (^[a-zA-Z0-9][a-zA-Z0-9\\\\-_]{0,254}$: no '.').",
      ),
    }),
  },
]
