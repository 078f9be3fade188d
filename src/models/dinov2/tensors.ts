/**
 * The Dinov2ForImageClassification's tensors: every Hugging Face tensor name with its shape and the parameter view it lands in. This is
 * the only file that spells the family's tensor names; weights.ts prepares what the forward pass runs from the views.
 */
import type {SourceTensor} from '../../weights/source.js'
import type {SourceScheme} from '../family.js'
import {type PlannedTensor, TensorPlan} from '../tensor-plan.js'
import type {Dinov2Config} from './config.js'

/** The parameters as read from the checkpoint (before folding and interpolation), and the tensors that fill them. */
export type Dinov2Parameters = ReturnType<typeof dinov2Parameters>

/** Lays out the parameters of `config`'s DINOv2 in views from `alloc`; `plan.tensors` lists every Hugging Face tensor. */
export function dinov2Parameters(config: Dinov2Config, alloc: (n: number) => Float32Array) {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numPositions: N, numLabels} = config
  const plan = new TensorPlan(alloc)
  const patchWeight = plan.want('dinov2.embeddings.patch_embeddings.projection.weight', [C, ch, PH, PW])
  const patchBias = plan.want('dinov2.embeddings.patch_embeddings.projection.bias', [C])
  const clsToken = plan.want('dinov2.embeddings.cls_token', [1, 1, C])
  // Masked image modelling's token: in the checkpoint (use_mask_token), unused by classification.
  if (config.maskToken) plan.want('dinov2.embeddings.mask_token', [1, C])
  const trainedPos = plan.want('dinov2.embeddings.position_embeddings', [1, N + 1, C])
  const raw = Array.from({length: config.numLayers}, (_, l) => {
    const p = `dinov2.encoder.layer.${l}`
    const qkvWeight = alloc(3 * C * C)
    const qkvBias = config.qkvBias ? alloc(3 * C) : null
    // The parts of the fused views, by role (the ONNX graph keeps them apart).
    const [query, key, value] = ['query', 'key', 'value'].map((part, i) => ({
      weight: plan.want(`${p}.attention.attention.${part}.weight`, [C, C], qkvWeight.subarray(i * C * C, (i + 1) * C * C)),
      bias: qkvBias ? plan.want(`${p}.attention.attention.${part}.bias`, [C], qkvBias.subarray(i * C, (i + 1) * C)) : undefined,
    }))
    return {
      qkvWeight,
      qkvBias,
      qkvParts: {query, key, value},
      ln1Gamma: plan.want(`${p}.norm1.weight`, [C]),
      ln1Beta: plan.want(`${p}.norm1.bias`, [C]),
      outWeight: plan.want(`${p}.attention.output.dense.weight`, [C, C]),
      outBias: plan.want(`${p}.attention.output.dense.bias`, [C]),
      lambda1: plan.want(`${p}.layer_scale1.lambda1`, [C]),
      ln2Gamma: plan.want(`${p}.norm2.weight`, [C]),
      ln2Beta: plan.want(`${p}.norm2.bias`, [C]),
      fc1Weight: plan.want(`${p}.mlp.fc1.weight`, [I, C]),
      fc1Bias: plan.want(`${p}.mlp.fc1.bias`, [I]),
      fc2Weight: plan.want(`${p}.mlp.fc2.weight`, [C, I]),
      fc2Bias: plan.want(`${p}.mlp.fc2.bias`, [C]),
      lambda2: plan.want(`${p}.layer_scale2.lambda1`, [C]),
    }
  })
  const lnfGamma = plan.want('dinov2.layernorm.weight', [C])
  const lnfBeta = plan.want('dinov2.layernorm.bias', [C])
  const classifierWeight = plan.want('classifier.weight', [numLabels, 2 * C])
  const classifierBias = plan.want('classifier.bias', [numLabels])
  return {plan, patchWeight, patchBias, clsToken, trainedPos, raw, lnfGamma, lnfBeta, classifierWeight, classifierBias}
}

/** The Hugging Face tensors of `config`'s DINOv2, in load order. */
export function dinov2Tensors(config: Dinov2Config): PlannedTensor[] {
  return dinov2Parameters(config, (n) => new Float32Array(0 * n)).plan.tensors
}


/** 'hf' when these are a Dinov2ForImageClassification's Hugging Face tensor names (the only scheme the family reads). */
export function detectDinov2Scheme(names: Iterable<string>): 'hf' | undefined {
  for (const n of names) if (n === 'dinov2.embeddings.patch_embeddings.projection.weight') return 'hf'
  return undefined
}

/** The classifier's class count as the checkpoint's head has it. */
export function dinov2NumLabelsOf(_scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>): number | undefined {
  return tensors.get('classifier.weight')?.shape[0]
}
