/**
 * The losses of the two image-classification tasks, forward and backward in one pass (the gradient is what training
 * needs; the loss is what it reports), as transformers' ViTForImageClassification computes them:
 * - single label: torch.nn.CrossEntropyLoss(label_smoothing=eps), the mean over the batch (the Trainer's LabelSmoother
 *   computes the same value: (1 - eps) * nll + eps * mean over classes of -log p);
 * - multilabel: torch.nn.BCEWithLogitsLoss(), the mean over batch x classes.
 * `scale` multiplies the loss and its gradient: the Trainer divides each micro-batch's loss by the accumulation steps.
 */
import {sigmoid} from '../kernels/reference.js'

// dlogits[B, K] = d(scale * loss) / d logits; returns scale * mean cross-entropy of logits[B, K] against labels[B]
export function crossEntropyForwardBackward(
  dlogits: Float32Array,
  logits: Float32Array,
  labels: ArrayLike<number>,
  labelSmoothing: number,
  scale: number,
  B: number,
  K: number,
): number {
  let total = 0
  for (let b = 0; b < B; b++) {
    const o = b * K
    let max = -Infinity
    for (let k = 0; k < K; k++) if (logits[o + k] > max) max = logits[o + k]
    let sum = 0
    for (let k = 0; k < K; k++) sum += Math.exp(logits[o + k] - max)
    const logSum = Math.log(sum) + max
    const y = labels[b]
    if (!(Number.isInteger(y) && y >= 0 && y < K)) throw new RangeError(`internal: label ${y} of batch row ${b} is not a class id in 0..${K - 1}`)
    let meanNegLogP = 0
    for (let k = 0; k < K; k++) meanNegLogP += logSum - logits[o + k]
    meanNegLogP /= K
    total += (1 - labelSmoothing) * (logSum - logits[o + y]) + labelSmoothing * meanNegLogP
    // d/dlogit_k = p_k - q_k with the smoothed target q = (1 - eps) onehot(y) + eps / K
    for (let k = 0; k < K; k++) {
      const p = Math.exp(logits[o + k] - logSum)
      const q = (k === y ? 1 - labelSmoothing : 0) + labelSmoothing / K
      dlogits[o + k] = ((p - q) * scale) / B
    }
  }
  return (total * scale) / B
}

// dlogits[B, K] = d(scale * loss) / d logits; returns scale * mean binary cross-entropy of logits against targets[B, K]
// (0/1 per class), in the log-sum-exp stable form max(x, 0) - x y + log(1 + exp(-|x|))
export function bceForwardBackward(dlogits: Float32Array, logits: Float32Array, targets: ArrayLike<number>, scale: number, B: number, K: number): number {
  const n = B * K
  let total = 0
  for (let i = 0; i < n; i++) {
    const x = logits[i]
    const y = targets[i]
    total += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)))
    const sig = sigmoid(x)
    dlogits[i] = ((sig - y) * scale) / n
  }
  return (total * scale) / n
}
