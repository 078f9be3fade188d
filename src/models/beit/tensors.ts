/**
 * The BeitForImageClassification's tensors: every Hugging Face tensor name with its shape and the parameter view it lands in. This is
 * the only file that spells the family's tensor names; weights.ts prepares what the forward pass runs from the views.
 */
import type {SourceTensor} from '../../weights/source.js'
import type {SourceScheme} from '../family.js'
import {type PlannedTensor, TensorPlan} from '../tensor-plan.js'
import type {BeitConfig} from './config.js'

/** The parameters as read from the checkpoint (before folding and expansion), and the tensors that fill them. */
export type BeitParameters = ReturnType<typeof beitParameters>

/** Lays out the parameters of `config`'s BEiT in views from `alloc`; `plan.tensors` lists every Hugging Face tensor. */
export function beitParameters(config: BeitConfig, alloc: (n: number) => Float32Array) {
  const {hiddenSize: C, intermediateSize: I, numChannels: ch, patchHeight: PH, patchWidth: PW, numTokens: T, numHeads: NH, numLabels} = config
  const plan = new TensorPlan(alloc)
  const numRel = (2 * config.gridHeight - 1) * (2 * config.gridWidth - 1) + 3
  const patchWeight = plan.want('beit.embeddings.patch_embeddings.projection.weight', [C, ch, PH, PW])
  const patchBias = plan.want('beit.embeddings.patch_embeddings.projection.bias', [C])
  const clsToken = plan.want('beit.embeddings.cls_token', [1, 1, C])
  // Masked image modelling's token: in the checkpoint (use_mask_token), unused by classification.
  if (config.maskToken) plan.want('beit.embeddings.mask_token', [1, 1, C])
  const posEmbed = config.absolutePositions ? plan.want('beit.embeddings.position_embeddings', [1, T, C]) : null
  const sharedTable = config.sharedRelativeBias ? plan.want('beit.encoder.relative_position_bias.relative_position_bias_table', [numRel, NH]) : null
  const raw = Array.from({length: config.numLayers}, (_, l) => {
    const p = `beit.encoder.layer.${l}`
    const qkvWeight = alloc(3 * C * C)
    const qkvBias = alloc(3 * C) // the key's third stays zero: BEiT's key has no bias
    // The parts of the fused views, by role (the ONNX graph keeps them apart).
    const queryWeight = plan.want(`${p}.attention.attention.query.weight`, [C, C], qkvWeight.subarray(0, C * C))
    const keyWeight = plan.want(`${p}.attention.attention.key.weight`, [C, C], qkvWeight.subarray(C * C, 2 * C * C))
    const valueWeight = plan.want(`${p}.attention.attention.value.weight`, [C, C], qkvWeight.subarray(2 * C * C))
    const queryBias = plan.want(`${p}.attention.attention.query.bias`, [C], qkvBias.subarray(0, C))
    const valueBias = plan.want(`${p}.attention.attention.value.bias`, [C], qkvBias.subarray(2 * C))
    const qkvParts = {query: {weight: queryWeight, bias: queryBias}, key: {weight: keyWeight}, value: {weight: valueWeight, bias: valueBias}}
    return {
      qkvWeight,
      qkvBias,
      qkvParts,
      table: config.relativeBias ? plan.want(`${p}.attention.attention.relative_position_bias.relative_position_bias_table`, [numRel, NH]) : null,
      ln1Gamma: plan.want(`${p}.layernorm_before.weight`, [C]),
      ln1Beta: plan.want(`${p}.layernorm_before.bias`, [C]),
      outWeight: plan.want(`${p}.attention.output.dense.weight`, [C, C]),
      outBias: plan.want(`${p}.attention.output.dense.bias`, [C]),
      ln2Gamma: plan.want(`${p}.layernorm_after.weight`, [C]),
      ln2Beta: plan.want(`${p}.layernorm_after.bias`, [C]),
      fc1Weight: plan.want(`${p}.intermediate.dense.weight`, [I, C]),
      fc1Bias: plan.want(`${p}.intermediate.dense.bias`, [I]),
      fc2Weight: plan.want(`${p}.output.dense.weight`, [C, I]),
      fc2Bias: plan.want(`${p}.output.dense.bias`, [C]),
      lambda1: config.layerScale ? plan.want(`${p}.lambda_1`, [C]) : null,
      lambda2: config.layerScale ? plan.want(`${p}.lambda_2`, [C]) : null,
    }
  })
  const headGamma = plan.want(config.meanPooling ? 'beit.pooler.layernorm.weight' : 'beit.layernorm.weight', [C])
  const headBeta = plan.want(config.meanPooling ? 'beit.pooler.layernorm.bias' : 'beit.layernorm.bias', [C])
  const classifierWeight = plan.want('classifier.weight', [numLabels, C])
  const classifierBias = plan.want('classifier.bias', [numLabels])
  return {plan, patchWeight, patchBias, clsToken, posEmbed, sharedTable, raw, headGamma, headBeta, classifierWeight, classifierBias}
}

/** The Hugging Face tensors of `config`'s BEiT, in load order. */
export function beitTensors(config: BeitConfig): PlannedTensor[] {
  return beitParameters(config, (n) => new Float32Array(0 * n)).plan.tensors
}


/** 'hf' when these are a BeitForImageClassification's Hugging Face tensor names (the only scheme the family reads). */
export function detectBeitScheme(names: Iterable<string>): 'hf' | undefined {
  for (const n of names) if (n === 'beit.embeddings.patch_embeddings.projection.weight') return 'hf'
  return undefined
}

/** The classifier's class count as the checkpoint's head has it. */
export function beitNumLabelsOf(_scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>): number | undefined {
  return tensors.get('classifier.weight')?.shape[0]
}
