import type {ConvertResult} from '../src/weights/convert.js'

/** Human output of `vitrine convert`. */
export function renderConvertResult(r: ConvertResult): string {
  const c = r.config
  const params = r.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0)
  const labels = Object.keys((c.id2label as Record<string, string> | undefined) ?? {}).length
  const weights = r.files.find((f) => f.path === 'model.safetensors')
  return [
    `Converted ${r.source} (${r.format}) into ${r.outDir}`,
    `  ViT: hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads, patch ${c.patch_size}, image ${c.image_size}; config from ${r.configSource}`,
    `  ${r.tensors.length} tensors, ${params.toLocaleString('en-US')} parameters, ${c.torch_dtype}; ${labels} labels (${r.labelsSource})`,
    ...r.files.map((f) => `  ${f.path.padEnd(26)} ${String(f.size).padStart(11)} bytes  sha256 ${f.sha256}`),
    weights ? `Next: vitrine package ${r.outDir} --out <dir>` : '',
  ].filter(Boolean).join('\n')
}
