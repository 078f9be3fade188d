#!/usr/bin/python3
"""Training references for the DINOv2 and BEiT fixtures, computed with PyTorch autograd and torch.optim.AdamW.

An independent PyTorch implementation of Dinov2ForImageClassification and BeitForImageClassification, written from
the semantics of transformers' modeling_dinov2.py / modeling_beit.py (functional, on the Hugging Face tensor names;
transformers itself is not needed). It first checks that it reproduces the fixture's own expected logits
(expected.json: inputs.f32 and every preprocessed image, within 1e-4), then fine-tunes the fixture's model under the
Hugging Face Trainer's semantics, as ../shared/fixtures/vit-*/train-* do for ViT (see test/fixtures/FIXTURES.md):

- micro-batches of the first 8 images of expected.json (their pixel_values files), labels 0..7, no shuffle;
- loss = mean cross-entropy (label smoothing) per micro-batch / accumulation steps, gradients summed;
- clip_grad_norm_(max_grad_norm) over every parameter with a gradient (the reported grad_norm is before clipping);
- torch.optim.AdamW (betas 0.9/0.999, eps 1e-8), weight decay except on LayerNorm parameters and on any parameter
  whose name contains "bias" (Trainer.get_decay_parameter_names: biases, BEiT's relative_position_bias_table);
  a parameter the forward never reads (DINOv2's mask token) has no gradient and is skipped by the optimizer;
- a LambdaLR linear or cosine schedule with warmup, stepped after each optimizer step;
- no dropout and no drop path (BEiT's drop_path_rate is stochastic; the references are deterministic).

The same run in float64 goes under "float64". Writes DIR/train-CASE/train.json and final.safetensors.

    /usr/bin/python3 scripts/reference/train_family.py test/fixtures/dinov2-tiny
    /usr/bin/python3 scripts/reference/train_family.py test/fixtures/beit-tiny
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

CASES = {
    'basic': dict(batch=4, accum=1, steps=8, lr=1e-3, warmup=2, schedule='linear', weight_decay=0.01, max_grad_norm=1.0, label_smoothing=0.0),
    'accum': dict(batch=2, accum=2, steps=6, lr=5e-4, warmup=1, schedule='cosine', weight_decay=0.05, max_grad_norm=0.5, label_smoothing=0.1),
}


# --- safetensors (F32 only), without the safetensors package ---

def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', (name, t['dtype'])
        a, b = t['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(data[8 + n + a:8 + n + b], dtype='<f4').copy().reshape(t['shape']))
    return out


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    for name in names:
        b = tensors[name].detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_f32(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(shape).copy())


# --- the models, functional over Hugging Face names ---

def attention(h, P, p, NH, k_bias, rel_bias):
    """Self-attention of h [B, T, C]: softmax(q k^T / sqrt(hs) (+ rel_bias [NH, T, T])) v, heads merged."""
    B, T, C = h.shape
    hs = C // NH
    q = F.linear(h, P[p + 'query.weight'], P[p + 'query.bias'])
    k = F.linear(h, P[p + 'key.weight'], P[p + 'key.bias'] if k_bias else None)
    v = F.linear(h, P[p + 'value.weight'], P[p + 'value.bias'])
    split = lambda x: x.view(B, T, NH, hs).permute(0, 2, 1, 3)
    q, k, v = split(q), split(k), split(v)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs)
    if rel_bias is not None:
        scores = scores + rel_bias.unsqueeze(0)
    probs = torch.softmax(scores, dim=-1)
    return torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(B, T, C)


def patch_tokens(P, prefix, x, patch):
    emb = F.conv2d(x, P[prefix + 'embeddings.patch_embeddings.projection.weight'], P[prefix + 'embeddings.patch_embeddings.projection.bias'], stride=patch)
    B, C, gh, gw = emb.shape
    emb = emb.flatten(2).transpose(1, 2)
    cls = P[prefix + 'embeddings.cls_token'].expand(B, -1, -1)
    return torch.cat([cls, emb], dim=1), gh, gw


class Dinov2:
    """Dinov2ForImageClassification (transformers >= 4.45 position interpolation: size=(h // p, w // p))."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.C, self.NH, self.L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
        self.patch, self.eps = cfg['patch_size'], cfg['layer_norm_eps']
        assert cfg.get('transformers_version', '9') >= '4.45', 'this reference follows the current interpolation'
        self.layernorms = {'dinov2.layernorm'} | {f'dinov2.encoder.layer.{l}.norm{i}' for l in range(self.L) for i in (1, 2)}

    def positions(self, P, H, W):
        pos = P['dinov2.embeddings.position_embeddings']
        N = pos.shape[1] - 1
        gh, gw = H // self.patch, W // self.patch
        if gh * gw == N and H == W:
            return pos
        S = int(N ** 0.5)
        grid = pos[:, 1:].reshape(1, S, S, self.C).permute(0, 3, 1, 2)
        dtype = grid.dtype
        grid = F.interpolate(grid.to(torch.float32), size=(gh, gw), mode='bicubic', align_corners=False, antialias=False).to(dtype)
        return torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, -1, self.C)], dim=1)

    def forward(self, P, x):
        h, _, _ = patch_tokens(P, 'dinov2.', x, self.patch)
        h = h + self.positions(P, x.shape[2], x.shape[3])
        C = self.C
        for l in range(self.L):
            p = f'dinov2.encoder.layer.{l}.'
            a = attention(F.layer_norm(h, (C,), P[p + 'norm1.weight'], P[p + 'norm1.bias'], self.eps), P, p + 'attention.attention.', self.NH, True, None)
            a = F.linear(a, P[p + 'attention.output.dense.weight'], P[p + 'attention.output.dense.bias'])
            h = a * P[p + 'layer_scale1.lambda1'] + h
            m = F.layer_norm(h, (C,), P[p + 'norm2.weight'], P[p + 'norm2.bias'], self.eps)
            m = F.linear(F.gelu(F.linear(m, P[p + 'mlp.fc1.weight'], P[p + 'mlp.fc1.bias'])), P[p + 'mlp.fc2.weight'], P[p + 'mlp.fc2.bias'])
            h = m * P[p + 'layer_scale2.lambda1'] + h
        seq = F.layer_norm(h, (C,), P['dinov2.layernorm.weight'], P['dinov2.layernorm.bias'], self.eps)
        return F.linear(torch.cat([seq[:, 0], seq[:, 1:].mean(dim=1)], dim=1), P['classifier.weight'], P['classifier.bias'])


def beit_relative_position_index(wh, ww):
    """BeitRelativePositionBias.relative_position_index for a wh x ww window, as modeling_beit.py builds it."""
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    num_rel = (2 * wh - 1) * (2 * ww - 1) + 3
    index = torch.zeros((wh * ww + 1, wh * ww + 1), dtype=rel.dtype)
    index[1:, 1:] = rel.sum(-1)
    index[0, 0:] = num_rel - 3
    index[0:, 0] = num_rel - 2
    index[0, 0] = num_rel - 1
    return index


class Beit:
    """BeitForImageClassification (relative position bias per layer and/or shared, layer scale, mean pooling)."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.C, self.NH, self.L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
        self.patch, self.eps = cfg['patch_size'], cfg['layer_norm_eps']
        self.window = (cfg['image_size'] // self.patch, cfg['image_size'] // self.patch)
        self.index = beit_relative_position_index(*self.window)
        self.mean_pooling = cfg.get('use_mean_pooling', True)
        self.layernorms = {f'beit.encoder.layer.{l}.layernorm_{w}' for l in range(self.L) for w in ('before', 'after')}
        self.layernorms |= {'beit.pooler.layernorm'} if self.mean_pooling else {'beit.layernorm'}

    def rel_bias(self, table):
        T = self.index.shape[0]
        return table[self.index.view(-1)].view(T, T, -1).permute(2, 0, 1).contiguous()

    def forward(self, P, x):
        h, _, _ = patch_tokens(P, 'beit.', x, self.patch)
        if self.cfg.get('use_absolute_position_embeddings', False):
            h = h + P['beit.embeddings.position_embeddings']
        shared = P.get('beit.encoder.relative_position_bias.relative_position_bias_table')
        C = self.C
        for l in range(self.L):
            p = f'beit.encoder.layer.{l}.'
            bias = None
            own = P.get(p + 'attention.attention.relative_position_bias.relative_position_bias_table')
            if own is not None:
                bias = self.rel_bias(own)
            if shared is not None:
                bias = self.rel_bias(shared) if bias is None else bias + self.rel_bias(shared)
            a = attention(F.layer_norm(h, (C,), P[p + 'layernorm_before.weight'], P[p + 'layernorm_before.bias'], self.eps), P, p + 'attention.attention.', self.NH, False, bias)
            a = F.linear(a, P[p + 'attention.output.dense.weight'], P[p + 'attention.output.dense.bias'])
            if p + 'lambda_1' in P:
                a = P[p + 'lambda_1'] * a
            h = a + h
            m = F.layer_norm(h, (C,), P[p + 'layernorm_after.weight'], P[p + 'layernorm_after.bias'], self.eps)
            m = F.linear(F.gelu(F.linear(m, P[p + 'intermediate.dense.weight'], P[p + 'intermediate.dense.bias'])), P[p + 'output.dense.weight'], P[p + 'output.dense.bias'])
            if p + 'lambda_2' in P:
                m = P[p + 'lambda_2'] * m
            h = m + h
        if self.mean_pooling:
            pooled = F.layer_norm(h[:, 1:].mean(dim=1), (C,), P['beit.pooler.layernorm.weight'], P['beit.pooler.layernorm.bias'], self.eps)
        else:
            pooled = F.layer_norm(h, (C,), P['beit.layernorm.weight'], P['beit.layernorm.bias'], self.eps)[:, 0]
        return F.linear(pooled, P['classifier.weight'], P['classifier.bias'])


def decays(model, name):
    """Trainer.get_decay_parameter_names: not a LayerNorm module's parameter, and no "bias" in the name."""
    module = name.rsplit('.', 1)[0]
    return module not in model.layernorms and 'bias' not in name


def schedule(kind, warmup, total):
    def f(step):
        if step < warmup:
            return step / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        if kind == 'linear':
            return max(0.0, (total - step) / max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
    return f


def train(model, weights, images, labels, inputs, h, dtype):
    P = {k: v.to(dtype).clone().requires_grad_(True) for k, v in weights.items()}
    groups = [
        {'params': [P[n] for n in sorted(P) if decays(model, n)], 'weight_decay': h['weight_decay']},
        {'params': [P[n] for n in sorted(P) if not decays(model, n)], 'weight_decay': 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=h['lr'], betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule(h['schedule'], h['warmup'], h['steps']))
    images = images.to(dtype)
    cursor, steps = 0, []
    for step in range(1, h['steps'] + 1):
        lr = sched.get_last_lr()[0]
        loss_sum = 0.0
        for _ in range(h['accum']):
            idx = [(cursor + b) % len(labels) for b in range(h['batch'])]
            cursor += h['batch']
            logits = model.forward(P, images[idx])
            loss = F.cross_entropy(logits, torch.tensor([labels[i] for i in idx]), label_smoothing=h['label_smoothing']) / h['accum']
            loss.backward()
            loss_sum += loss.item()
        with_grad = [t for t in P.values() if t.grad is not None]
        grad_norm = torch.nn.utils.clip_grad_norm_(with_grad, h['max_grad_norm']).item()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        steps.append({'step': step, 'lr': lr, 'loss': loss_sum, 'grad_norm': grad_norm})
    with torch.no_grad():
        final_logits = model.forward(P, inputs.to(dtype)).tolist()
    return P, steps, final_logits


def main(fixture):
    torch.use_deterministic_algorithms(True)
    cfg = json.load(open(os.path.join(fixture, 'config.json')))
    expected = json.load(open(os.path.join(fixture, 'expected.json')))
    model = {'dinov2': Dinov2, 'beit': Beit}[cfg['model_type']](cfg)
    weights = read_safetensors(os.path.join(fixture, 'model.safetensors'))

    # anchor: this implementation gives the fixture's expected logits
    inputs = read_f32(os.path.join(fixture, expected['inputs']['file']), expected['inputs']['shape'])
    with torch.no_grad():
        worst = (model.forward(weights, inputs) - torch.tensor(expected['inputs']['logits'])).abs().max().item()
        for im in expected['images']:
            if 'error' in im:
                continue
            px = read_f32(os.path.join(fixture, im['pixel_values']), [1, 3] + list(inputs.shape[2:]))
            if tuple(px.shape[2:]) != tuple(inputs.shape[2:]):
                continue
            worst = max(worst, (model.forward(weights, px) - torch.tensor(im['logits'])).abs().max().item())
    print(f'{fixture}: max |logit - expected| = {worst:.2e}')
    assert worst <= 1e-4, 'the reference implementation does not reproduce the fixture'

    usable = [im for im in expected['images'] if 'error' not in im][:8]
    id2label = cfg['id2label']
    labels = list(range(8))
    images = torch.cat([read_f32(os.path.join(fixture, im['pixel_values']), [1] + list(inputs.shape[1:])) for im in usable])
    for case, h in CASES.items():
        P32, steps32, logits32 = train(model, weights, images, labels, inputs, h, torch.float32)
        P64, steps64, logits64 = train(model, weights, images, labels, inputs, h, torch.float64)
        diff = max((P32[n].double() - P64[n]).abs().max().item() for n in P32)
        out = {
            'fixture': os.path.basename(os.path.normpath(fixture)),
            'preset': expected.get('preset'),
            'seed': expected.get('seed'),
            'case': case,
            'reference': 'scripts/reference/train_family.py (independent PyTorch implementation, torch ' + torch.__version__ + f'; max |logit - expected.json| {worst:.1e})',
            'hyperparameters': {**h, 'optimizer': 'adamw_torch', 'betas': [0.9, 0.999], 'eps': 1e-8,
                                'no_decay': 'LayerNorm parameters and every name containing "bias"', 'shuffle': False,
                                'dropout': 'none (no dropout, no drop path)'},
            'data': {
                'images': [im['image'] for im in usable],
                'pixel_values': [im['pixel_values'] for im in usable],
                'labels': labels,
                'label_names': [id2label[str(i)] for i in labels],
                'order': 'no shuffle: each epoch takes micro-batches in this order',
                'epochs': h['steps'] * h['batch'] * h['accum'] // len(labels),
            },
            'steps': steps32,
            'final_logits_on_inputs': logits32,
            'float64': {'steps': steps64, 'final_logits_on_inputs': logits64, 'max_abs_weight_diff_vs_float32': diff},
        }
        d = os.path.join(fixture, 'train-' + case)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'train.json'), 'w') as f:
            json.dump(out, f, indent=1)
            f.write('\n')
        write_safetensors(os.path.join(d, 'final.safetensors'), P32)
        print(f'{d}: {len(steps32)} steps, loss {steps32[0]["loss"]:.4f} -> {steps32[-1]["loss"]:.4f}, float64 weight diff {diff:.1e}')


if __name__ == '__main__':
    for arg in sys.argv[1:]:
        main(arg)
