import type {ConvertResult} from '../src/weights/convert.js'
import {printable} from '../src/core/printable.js'

/** Human output of `vitrine convert`. */
export function renderConvertResult(r: ConvertResult): string {
  const c = r.config
  const params = r.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0)
  const labels = Object.keys((c.id2label as Record<string, string> | undefined) ?? {}).length
  const weights = r.files.find((f) => f.path === 'model.safetensors')
  return [
    `Converted ${printable(r.source)} (${r.format}) into ${printable(r.outDir)}`,
    `  ViT: hidden ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads, patch ${c.patch_size}, image ${c.image_size}; config from ${printable(r.configSource)}`,
    `  ${r.tensors.length} tensors, ${params.toLocaleString('en-US')} parameters, ${c.torch_dtype}; ${labels} labels (${printable(r.labelsSource)})`,
    ...r.files.map((f) => `  ${printable(f.path).padEnd(26)} ${String(f.size).padStart(11)} bytes  sha256 ${f.sha256}`),
    weights ? `Next: vitrine package ${printable(r.outDir)} --out <dir>` : '',
  ].filter(Boolean).join('\n')
}
