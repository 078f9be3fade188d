/**
 * The mlflow model spec rules (validate_model_spec, validate_model_schema): `legacy-form`, `task-missing`,
 * `license-missing`, `shared-compute`, `finetune-tasks-missing`, on the spec resolved over both of its forms.
 */
import type {ResolvedSpec} from '../resolve.js'
import type {YamlFile, YamlPath} from '../yaml-file.js'
import type {Reporter} from './reporter.js'

export function checkModelSpec(r: Reporter, spec: YamlFile, res: ResolvedSpec): void {
  if (res.form === 'legacy') {
    const legacyKeys = ['task', 'license', 'inference_compute_allow_list'].some((k) => k in res.tags) || Object.keys(res.properties).some((k) => /-sku|SharedComputeCapacityEnabled|finetuning-tasks/.test(k))
    if (legacyKeys) {
      r.at(spec, ['tags'], 'legacy-form', 'legacy tags/properties form: azureml-assets now enforces system_metadata (validate_model_schema --enforce-migration); see https://aka.ms/azureml/model-system-metadata', {prefer: 'key', severity: 'warning'})
    }
  }
  const taskHome: YamlPath = res.form === 'current' ? ['system_metadata', 'tasks', 'inferenceTasks'] : ['tags', 'task']
  if (!res.task || res.task.value.trim() === '') {
    const msg = `task missing: set ${taskHome.join('.')}`
    if (res.task) r.at(spec, res.task.path, 'task-missing', msg, {prefer: 'key'})
    else r.missing(spec, taskHome, 'task-missing', msg)
  }
  const licenseHome: YamlPath = res.form === 'current' ? ['system_metadata', 'license'] : ['tags', 'license']
  if (!res.license || res.license.value.trim() === '') {
    const msg = `license missing: set ${licenseHome.join('.')}`
    if (res.license) r.at(spec, res.license.path, 'license-missing', msg, {prefer: 'key'})
    else r.missing(spec, licenseHome, 'license-missing', msg)
  }
  if (!res.sharedCompute.enabled) {
    const msg = `shared compute capacity is not enabled: ${res.sharedCompute.reason ?? ''}`.trim()
    if (res.sharedCompute.path.length) r.at(spec, res.sharedCompute.path, 'shared-compute', msg, {prefer: 'key'})
    else r.missing(spec, res.form === 'current' ? ['system_metadata'] : ['properties'], 'shared-compute', msg)
  }
  if (res.scenarios.finetune.declared && (res.finetuningTasks?.value.length ?? 0) === 0) {
    const home: YamlPath = res.form === 'current' ? ['system_metadata', 'tasks', 'fineTuningTasks'] : ['properties', 'finetuning-tasks']
    const msg = `finetune scenario declared but no finetuning tasks (${home.join('.')})`
    if (res.finetuningTasks) r.at(spec, res.finetuningTasks.path, 'finetune-tasks-missing', msg, {prefer: 'key'})
    else r.missing(spec, home, 'finetune-tasks-missing', msg)
  }
}
