import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {InvalidInputError} from '../../../src/core/errors.js'
import {parseModelConfigText} from '../../../src/models/registry.js'
import {parseVitConfig} from '../../../src/models/vit/config.js'
import {FIXTURES} from '../../engine/fixtures.js'

const FILE = 'm/config.json'
const geom = JSON.parse(readFileSync(join(FIXTURES, 'vit-geom', 'config.json'), 'utf8')) as Record<string, unknown>

describe('parseVitConfig', () => {
  it('derives the geometry of vit-geom', () => {
    const {config, labels} = parseVitConfig(geom, FILE)
    expect(config).toEqual({
      hiddenSize: 32,
      numLayers: 3,
      numHeads: 4,
      intermediateSize: 80,
      patchHeight: 8,
      patchWidth: 8,
      imageHeight: 64,
      imageWidth: 64,
      numChannels: 3,
      numLabels: 5,
      layerNormEps: 1e-6,
      qkvBias: true,
      gridHeight: 8,
      gridWidth: 8,
      numPatches: 64,
      numTokens: 65,
    })
    expect(labels).toEqual(['can', 'carton', 'milk_bottle', 'water_bottle', 'apple'])
  })

  it("takes transformers' ViTConfig defaults for missing fields (google/vit-base-patch16-224's geometry)", () => {
    const {config, labels} = parseVitConfig({}, FILE)
    expect(config).toMatchObject({hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, patchHeight: 16, imageWidth: 224, numTokens: 197, layerNormEps: 1e-12, qkvBias: true})
    expect(labels).toEqual(['LABEL_0', 'LABEL_1'])
    expect(parseVitConfig({num_labels: 3}, FILE).labels).toEqual(['LABEL_0', 'LABEL_1', 'LABEL_2'])
  })

  it('accepts [height, width] sizes and drops pixels past the last whole patch', () => {
    const {config} = parseVitConfig({...geom, image_size: [40, 66], patch_size: [8, 16]}, FILE)
    expect(config).toMatchObject({gridHeight: 5, gridWidth: 4, numPatches: 20, numTokens: 21})
  })

  it('orders labels by id, whatever the key order', () => {
    const {labels} = parseVitConfig({...geom, id2label: {'2': 'c', '0': 'a', '1': 'b'}}, FILE)
    expect(labels).toEqual(['a', 'b', 'c'])
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['hidden_act', {hidden_act: 'gelu_new'}, /m\/config\.json: hidden_act is "gelu_new"; vitrine implements only "gelu"/],
    ['hidden_act', {hidden_act: 'gelu_pytorch_tanh'}, /hidden_act is "gelu_pytorch_tanh"/],
    ['model_type', {model_type: 'deit'}, /model_type is "deit"/],
    ['architectures', {architectures: ['ViTForMaskedImageModeling']}, /architectures is \["ViTForMaskedImageModeling"\]/],
    ['hidden_size', {hidden_size: 32.5}, /hidden_size must be a positive integer, got 32.5/],
    ['num_hidden_layers', {num_hidden_layers: 0}, /num_hidden_layers must be a positive integer, got 0/],
    ['num_attention_heads', {num_attention_heads: 5}, /num_attention_heads \(5\) must divide hidden_size \(32\)/],
    ['image_size', {image_size: '64'}, /image_size must be a positive integer or \[height, width\], got "64"/],
    ['patch_size', {patch_size: 128}, /patch_size \(128x128\) is larger than image_size \(64x64\)/],
    ['layer_norm_eps', {layer_norm_eps: 'tiny'}, /layer_norm_eps must be a non-negative number/],
    ['qkv_bias', {qkv_bias: 1}, /qkv_bias must be true or false, got 1/],
    ['id2label', {id2label: {'0': 'a', '2': 'c'}}, /id2label\["2"\] is not a class id in 0\.\.1/],
    ['id2label', {id2label: {'0': 'a', '01': 'b'}}, /id2label\["01"\] is not a class id/],
    ['id2label', {id2label: {'0': 7}}, /id2label\["0"\] must be a string, got 7/],
    ['id2label', {id2label: {}}, /id2label is empty/],
    ['num_labels', {num_labels: 4}, /num_labels \(4\) disagrees with id2label, which has 5 classes/],
  ])('refuses a bad %s, naming it and the file', (_field, patch, message) => {
    expect(() => parseVitConfig({...geom, ...patch}, FILE)).toThrow(InvalidInputError)
    expect(() => parseVitConfig({...geom, ...patch}, FILE)).toThrow(message)
  })

  it('refuses text that is not JSON, or not an object', () => {
    expect(() => parseModelConfigText('{"hidden_size": ', FILE)).toThrow(/m\/config\.json: not valid JSON/)
    expect(() => parseModelConfigText('[1]', FILE)).toThrow(/must be a JSON object/)
  })
})
