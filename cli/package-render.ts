import type {PackageResult} from '../src/package/package.js'
import type {VerifyResult} from '../src/package/verify.js'
import {printable} from '../src/core/printable.js'

/** Human output of `vitrine package`. */
export function renderPackageResult(r: PackageResult): string {
  const where = r.weightsLocation.type === 'azureblob'
    ? `https://${r.weightsLocation.storageName}.blob.core.windows.net/${r.weightsLocation.containerName}/${r.weightsLocation.containerPath}`
    : `${printable(r.weightsLocation.uri)} (local)`
  return [
    `Packaged ${printable(r.name)} version ${printable(r.version)} (${printable(r.task)}, ${r.numLabels} labels, ${r.parameterCount.toLocaleString('en-US')} parameters, ${r.dtype}) into ${printable(r.outDir)}`,
    `  mlflow_model_folder/  MLmodel (transformers flavor), model_size_bytes ${r.modelSizeBytes}${r.onnx ? ', model.onnx' : ''}`,
    '  asset/                asset.yaml, spec.yaml, model.yaml, description.md, MLmodel',
    `  manifest.json         ${r.files.length} files with size and sha256`,
    `  weights will live at  ${where}`,
    `  vitrine validate      0 errors, ${r.validation.warnings} warning${r.validation.warnings === 1 ? '' : 's'}`,
    ...r.validation.warningMessages.map((m) => `    warning: ${printable(m)}`),
    `Next: vitrine validate ${printable(r.outDir)}/asset && vitrine verify ${printable(r.outDir)}`,
  ].join('\n')
}

/** Human output of `vitrine verify`. */
export function renderVerifyResult(r: VerifyResult): string {
  const checked = `${r.filesChecked} files (${r.bytesChecked} bytes) hashed, ${r.tensorsChecked} tensor shapes checked`
  if (r.ok) return `${printable(r.dir)}: OK — ${printable(String(r.name))} version ${printable(String(r.version))}, ${checked}`
  return [`${printable(r.dir)}: ${r.issues.length} problem${r.issues.length === 1 ? '' : 's'} (${checked})`, ...r.issues.map((i) => `  ${printable(i.file)}: ${printable(i.message)}`)].join('\n')
}
