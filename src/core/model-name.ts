/**
 * The one home of the model-name rules. Two authorities disagree, and a name must satisfy both to be publishable:
 * - azureml-assets' validate_name: starts with a letter; letters, digits, '_', '.', '-'; at most 255 characters;
 * - Azure ML's REST API (model containers and versions, workspace and registry): `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`,
 *   so no '.': the real azureml-assets CI passes `my.model`, and Azure refuses it when it is published.
 * validate reports the second as a warning (it mirrors the azureml-assets CI, which accepts dots); package and apply,
 * which produce and send what Azure receives, refuse it.
 */

/** azureml-assets' pattern for model names (validate_name). */
export const ASSETS_MODEL_NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/
/** Azure ML REST's pattern for model names (ModelContainer / ModelVersion `name`, api-version 2024-04-01). */
export const AZURE_MODEL_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/

/** The REST rule in words, for messages. */
export const AZURE_MODEL_NAME_RULE =
  "Azure ML model names start with a letter or digit and hold only letters, digits, '-' and '_', at most 255 characters (^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$; no '.')"

/** Why Azure would refuse `name` as a model name, or undefined when it accepts it. */
export function azureModelNameProblem(name: string): string | undefined {
  if (AZURE_MODEL_NAME_RE.test(name)) return undefined
  return `model name ${JSON.stringify(name)} is refused by Azure ML: ${AZURE_MODEL_NAME_RULE}`
}

/** Why `name` cannot be published (either rule), or undefined. */
export function publishableModelNameProblem(name: string): string | undefined {
  if (!ASSETS_MODEL_NAME_RE.test(name)) {
    return `model name ${JSON.stringify(name)} does not match azureml-assets' ${ASSETS_MODEL_NAME_RE.source} (starts with a letter)`
  }
  return azureModelNameProblem(name)
}

/**
 * A publishable model name made from free text (a folder name, a Hugging Face id), or undefined when nothing of it
 * is left: every run of characters Azure refuses (anything but letters, digits, '-' and '_'; '/' and '.' included)
 * becomes one '-', leading and trailing '-' go, a name that does not start with a letter (azureml-assets' rule) gets
 * `prefix` + '-' before it, and the result is cut to 255 characters.
 */
export function modelNameFrom(text: string, prefix: string): string | undefined {
  const core = text.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '')
  if (!/[A-Za-z0-9]/.test(core)) return undefined
  const name = (/^[A-Za-z]/.test(core) ? core : `${prefix}-${core}`).slice(0, 255).replace(/-+$/, '')
  return publishableModelNameProblem(name) ? undefined : name
}
