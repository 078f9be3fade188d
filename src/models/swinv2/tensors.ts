/**
 * The Swinv2ForImageClassification's tensors: every Hugging Face tensor name with its shape and the parameter view it lands in. This is
 * the only file that spells the family's tensor names; weights.ts prepares what the forward pass runs from the views.
 */
import type {SourceTensor} from '../../weights/source.js'
import type {SourceScheme} from '../family.js'
import {type PlannedTensor, TensorPlan} from '../tensor-plan.js'
import {type Swinv2Config, type Swinv2StageGeometry, swinv2Geometry} from './config.js'

/** The parameters as read from the checkpoint (before the biases are built), and the tensors that fill them. */
export type Swinv2Parameters = ReturnType<typeof swinv2Parameters>

/** Lays out the parameters of `config`'s SwinV2 in views from `alloc`; `plan.tensors` lists every Hugging Face tensor. */
export function swinv2Parameters(config: Swinv2Config, stages: Swinv2StageGeometry[], alloc: (n: number) => Float32Array) {
  const P = config.patchSize
  const ch = config.numChannels
  const C0 = config.embedDim
  const plan = new TensorPlan(alloc)
  const patchWeight = plan.want('swinv2.embeddings.patch_embeddings.projection.weight', [C0, ch, P, P])
  const patchBias = plan.want('swinv2.embeddings.patch_embeddings.projection.bias', [C0])
  const embedNormGamma = plan.want('swinv2.embeddings.norm.weight', [C0])
  const embedNormBeta = plan.want('swinv2.embeddings.norm.bias', [C0])
  const raw = stages.map((stage, i) => {
    const C = stage.dim
    const NH = stage.heads
    const blocks = stage.blocks.map((geometry, j) => {
      const p = `swinv2.encoder.layers.${i}.blocks.${j}`
      const qkvWeight = alloc(3 * C * C)
      const qkvBias = config.qkvBias ? alloc(3 * C) : null
      // The parts of the fused views, by role (the ONNX graph keeps them apart); the key has no bias.
      const queryWeight = plan.want(`${p}.attention.self.query.weight`, [C, C], qkvWeight.subarray(0, C * C))
      const keyWeight = plan.want(`${p}.attention.self.key.weight`, [C, C], qkvWeight.subarray(C * C, 2 * C * C))
      const valueWeight = plan.want(`${p}.attention.self.value.weight`, [C, C], qkvWeight.subarray(2 * C * C))
      const queryBias = qkvBias ? plan.want(`${p}.attention.self.query.bias`, [C], qkvBias.subarray(0, C)) : undefined
      const valueBias = qkvBias ? plan.want(`${p}.attention.self.value.bias`, [C], qkvBias.subarray(2 * C)) : undefined
      const qkvParts = {query: {weight: queryWeight, bias: queryBias}, key: {weight: keyWeight}, value: {weight: valueWeight, bias: valueBias}}
      return {
        geometry,
        qkvWeight,
        qkvBias,
        qkvParts,
        logitScale: plan.want(`${p}.attention.self.logit_scale`, [NH, 1, 1]),
        cpbW0: plan.want(`${p}.attention.self.continuous_position_bias_mlp.0.weight`, [512, 2]),
        cpbB0: plan.want(`${p}.attention.self.continuous_position_bias_mlp.0.bias`, [512]),
        cpbW2: plan.want(`${p}.attention.self.continuous_position_bias_mlp.2.weight`, [NH, 512]),
        outWeight: plan.want(`${p}.attention.output.dense.weight`, [C, C]),
        outBias: plan.want(`${p}.attention.output.dense.bias`, [C]),
        lnBeforeGamma: plan.want(`${p}.layernorm_before.weight`, [C]),
        lnBeforeBeta: plan.want(`${p}.layernorm_before.bias`, [C]),
        fc1Weight: plan.want(`${p}.intermediate.dense.weight`, [stage.hidden, C]),
        fc1Bias: plan.want(`${p}.intermediate.dense.bias`, [stage.hidden]),
        fc2Weight: plan.want(`${p}.output.dense.weight`, [C, stage.hidden]),
        fc2Bias: plan.want(`${p}.output.dense.bias`, [C]),
        lnAfterGamma: plan.want(`${p}.layernorm_after.weight`, [C]),
        lnAfterBeta: plan.want(`${p}.layernorm_after.bias`, [C]),
      }
    })
    const merge =
      i < stages.length - 1
        ? {
            reduction: plan.want(`swinv2.encoder.layers.${i}.downsample.reduction.weight`, [2 * C, 4 * C]),
            normGamma: plan.want(`swinv2.encoder.layers.${i}.downsample.norm.weight`, [2 * C]),
            normBeta: plan.want(`swinv2.encoder.layers.${i}.downsample.norm.bias`, [2 * C]),
          }
        : null
    return {stage, blocks, merge}
  })
  const CL = stages[stages.length - 1].dim
  const lnfGamma = plan.want('swinv2.layernorm.weight', [CL])
  const lnfBeta = plan.want('swinv2.layernorm.bias', [CL])
  const classifierWeight = plan.want('classifier.weight', [config.numLabels, CL])
  const classifierBias = plan.want('classifier.bias', [config.numLabels])
  return {plan, patchWeight, patchBias, embedNormGamma, embedNormBeta, raw, lnfGamma, lnfBeta, classifierWeight, classifierBias}
}

/** The Hugging Face tensors of `config`'s SwinV2, in load order (they do not depend on the input size). */
export function swinv2Tensors(config: Swinv2Config): PlannedTensor[] {
  return swinv2Parameters(config, swinv2Geometry(config, config.imageHeight, config.imageWidth), (n) => new Float32Array(0 * n)).plan.tensors
}


/** 'hf' when these are a Swinv2ForImageClassification's Hugging Face tensor names (the only scheme the family reads). */
export function detectSwinv2Scheme(names: Iterable<string>): 'hf' | undefined {
  for (const n of names) if (n === 'swinv2.embeddings.patch_embeddings.projection.weight') return 'hf'
  return undefined
}

/** The classifier's class count as the checkpoint's head has it. */
export function swinv2NumLabelsOf(_scheme: SourceScheme, tensors: ReadonlyMap<string, SourceTensor>): number | undefined {
  return tensors.get('classifier.weight')?.shape[0]
}
