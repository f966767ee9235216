"""PyTorch twin of fairdiff's latent diffusion networks (src/models/*.ts), layer for layer.

Text encoder (TransformerTextEncoder), UNet and the KL autoencoder's decoder, with the same
parameter names as fairdiff's Module.namedParameters(), so weights exported from tfjs load here
by name. Layouts differ only where PyTorch's idiom does: NCHW activations, Linear weights
[out, in] (ours [in, out]), conv kernels [out, in, k, k] (ours [k, k, in, out]). Stride-2 convs
pad like TensorFlow's "same" (bottom/right only), not PyTorch's symmetric padding.

Tensor files: PREFIX.json ({"tensors": [{"name", "shape", "offset"}]}, offsets in floats) beside
PREFIX.bin (little-endian float32), as written by bench/peers/diffusionTwin.ts.

Usage:
  diffusion_twin.py check DIR
      DIR holds config.json, weights.*, inputs.*; writes outputs.* (text embeddings, UNet output,
      decoded images, loss, gradients — in fairdiff's layouts). Prints one JSON line.
  diffusion_twin.py bench DIR STEPS THREADS
      Times a training step (text encoder + UNet, AdamW, clip 1; median wall time of STEPS steps
      after 2 warm-up steps, and process CPU time per step) and DDIM sampling with
      classifier-free guidance plus decoding. Prints one JSON line.
"""
import json
import math
import os
import sys
import time

# Debian's torch does its matrix products in OpenBLAS (openblas-pthread), whose thread pool
# ignores torch.set_num_threads and uses every core: pin it to the requested thread count
# before torch loads it, or a "1 thread" run uses two cores.
if len(sys.argv) > 4 and sys.argv[1] == "bench":
    os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[4]
else:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# Additive attention bias for masked keys, as in src/models/attention.ts.
MASKED = -1e9


# ---------------------------------------------------------------------------- tensor files


def read_tensors(prefix):
    with open(prefix + ".json") as f:
        manifest = json.load(f)
    flat = np.fromfile(prefix + ".bin", dtype="<f4")
    out = {}
    for entry in manifest["tensors"]:
        size = int(np.prod(entry["shape"])) if entry["shape"] else 1
        values = flat[entry["offset"] : entry["offset"] + size]
        out[entry["name"]] = torch.from_numpy(values.copy()).reshape(entry["shape"])
    return out


def write_tensors(prefix, tensors):
    entries = []
    offset = 0
    chunks = []
    for name, t in tensors.items():
        values = t.detach().to(torch.float32).contiguous().numpy().reshape(-1)
        entries.append({"name": name, "shape": list(t.shape), "offset": offset})
        offset += values.size
        chunks.append(values)
    np.concatenate(chunks).astype("<f4").tofile(prefix + ".bin")
    with open(prefix + ".json", "w") as f:
        json.dump({"tensors": entries}, f)


# ---------------------------------------------------------------------------- layers


def fan_in_uniform(shape, fan_in):
    bound = 1 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class Linear(nn.Module):
    """y = x·Wᵀ + b over the last axis (src/models/linear.ts)."""

    def __init__(self, n_in, n_out, bias=True):
        super().__init__()
        self.weight = fan_in_uniform((n_out, n_in), n_in)
        self.bias = fan_in_uniform((n_out,), n_in) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class Conv2d(nn.Module):
    """3×3 (or k×k) conv with TensorFlow "same" padding (src/models/conv2d.ts)."""

    def __init__(self, n_in, n_out, kernel_size=3, stride=1):
        super().__init__()
        fan_in = kernel_size * kernel_size * n_in
        self.kernel = fan_in_uniform((n_out, n_in, kernel_size, kernel_size), fan_in)
        self.bias = fan_in_uniform((n_out,), fan_in)
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, x):
        k, s = self.kernel_size, self.stride
        if s == 1:
            return F.conv2d(x, self.kernel, self.bias, padding=k // 2)
        # "same" with stride s: total padding (⌈n/s⌉−1)·s + k − n, the extra pixel after.
        h, w = x.shape[2], x.shape[3]
        pad_h = max((-(-h // s) - 1) * s + k - h, 0)
        pad_w = max((-(-w // s) - 1) * s + k - w, 0)
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return F.conv2d(x, self.kernel, self.bias, stride=s)


class GroupNorm(nn.Module):
    def __init__(self, groups, channels, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.groups = groups
        self.eps = eps

    def forward(self, x):
        return F.group_norm(x, self.groups, self.gamma, self.beta, self.eps)


class LayerNorm(nn.Module):
    def __init__(self, features, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(features))
        self.beta = nn.Parameter(torch.zeros(features))
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.gamma, self.beta, self.eps)


class ResBlock(nn.Module):
    """GN → SiLU → conv (+ time) → GN → SiLU → conv, 1×1 skip if widths differ."""

    def __init__(self, n_in, n_out, groups, time_dim=0):
        super().__init__()
        self.norm1 = GroupNorm(groups, n_in)
        self.conv1 = Conv2d(n_in, n_out)
        self.time = Linear(time_dim, n_out) if time_dim > 0 else None
        self.norm2 = GroupNorm(groups, n_out)
        self.conv2 = Conv2d(n_out, n_out)
        self.skip = Conv2d(n_in, n_out, kernel_size=1) if n_in != n_out else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time is not None:
            h = h + self.time(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.skip(x) if self.skip is not None else x) + h


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = Conv2d(channels, channels, stride=2)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = Conv2d(channels, channels)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Attention(nn.Module):
    """Multi-head attention; q, k, v without bias, out with bias (src/models/attention.ts)."""

    def __init__(self, query_dim, heads, context_dim=None):
        super().__init__()
        context_dim = context_dim or query_dim
        self.heads = heads
        self.head_dim = query_dim // heads
        self.q = Linear(query_dim, query_dim, bias=False)
        self.k = Linear(context_dim, query_dim, bias=False)
        self.v = Linear(context_dim, query_dim, bias=False)
        self.out = Linear(query_dim, query_dim)

    def split(self, x):
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, context=None, key_mask=None):
        source = x if context is None else context
        b, n, _ = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(source)), self.split(self.v(source))
        scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(self.head_dim))
        if key_mask is not None:
            scores = scores + ((1 - key_mask) * MASKED).view(b, 1, 1, -1)
        mixed = scores.softmax(dim=-1) @ v
        return self.out(mixed.transpose(1, 2).reshape(b, n, self.heads * self.head_dim))


class TransformerBlock(nn.Module):
    """Pre-LN: [LN → self-attn] → [LN → cross-attn] → [LN → GELU(tanh) MLP], residuals."""

    def __init__(self, width, heads, self_attention, context_dim=None, mlp_ratio=4):
        super().__init__()
        if self_attention:
            self.selfNorm = LayerNorm(width)
            self.selfAttention = Attention(width, heads)
        else:
            self.selfAttention = None
        if context_dim is not None:
            self.crossNorm = LayerNorm(width)
            self.crossAttention = Attention(width, heads, context_dim)
        else:
            self.crossAttention = None
        self.mlpNorm = LayerNorm(width)
        self.mlpIn = Linear(width, width * mlp_ratio)
        self.mlpOut = Linear(width * mlp_ratio, width)

    def forward(self, x, context=None, context_mask=None, self_mask=None):
        h = x
        if self.selfAttention is not None:
            h = h + self.selfAttention(self.selfNorm(h), None, self_mask)
        if self.crossAttention is not None:
            h = h + self.crossAttention(self.crossNorm(h), context, context_mask)
        return h + self.mlpOut(F.gelu(self.mlpIn(self.mlpNorm(h)), approximate="tanh"))


class SpatialTransformer(nn.Module):
    def __init__(self, channels, heads, context_dim, groups, self_attention):
        super().__init__()
        self.norm = GroupNorm(groups, channels)
        self.projectIn = Linear(channels, channels)
        self.block = TransformerBlock(channels, heads, self_attention, context_dim)
        self.projectOut = Linear(channels, channels)

    def forward(self, x, context, context_mask=None):
        b, c, h, w = x.shape
        tokens = self.projectIn(self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c))
        mixed = self.projectOut(self.block(tokens, context, context_mask))
        return x + mixed.view(b, h, w, c).permute(0, 3, 1, 2)


class TimestepEmbedding(nn.Module):
    """Sinusoidal features (cos first) → Linear → SiLU → Linear."""

    def __init__(self, frequency_dim, embedding_dim):
        super().__init__()
        half = frequency_dim // 2
        frequencies = np.exp(-math.log(10000) * np.arange(half) / half).astype(np.float32)
        self.register_buffer("frequencies", torch.from_numpy(frequencies)[None, :])
        self.first = Linear(frequency_dim, embedding_dim)
        self.second = Linear(embedding_dim, embedding_dim)

    def forward(self, t):
        args = t.float()[:, None] * self.frequencies
        features = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
        return self.second(F.silu(self.first(features)))


# ---------------------------------------------------------------------------- networks


class UNet(nn.Module):
    """src/models/unet.ts: children are named as there, so parameter names match."""

    def __init__(self, c):
        super().__init__()
        channels = c["blockChannels"]
        groups, heads, layers = c["normGroups"], c["heads"], c["layersPerBlock"]
        time_dim = channels[0] * 4

        def res(n_in, n_out):
            return ResBlock(n_in, n_out, groups, time_dim)

        def attention(width):
            return SpatialTransformer(width, heads, c["contextDim"], groups, c["selfAttention"])

        self.time = TimestepEmbedding(channels[0], time_dim)
        self.convIn = Conv2d(c["inChannels"], channels[0])
        # Each stage is (kind, module name); forward walks them in the order of unet.ts.
        self.down_plan = []
        skip_channels = [channels[0]]
        width = channels[0]
        for i, level_channels in enumerate(channels):
            for j in range(layers):
                self.add_module(f"down{i}_res{j}", res(width, level_channels))
                width = level_channels
                attn = f"down{i}_attn{j}" if c["attentionLevels"][i] else None
                if attn:
                    self.add_module(attn, attention(width))
                self.down_plan.append((f"down{i}_res{j}", attn))
                skip_channels.append(width)
            if i < len(channels) - 1:
                self.add_module(f"down{i}_downsample", Downsample(width))
                self.down_plan.append((f"down{i}_downsample", None))
                skip_channels.append(width)
        self.mid_res0 = res(width, width)
        self.mid_res1 = res(width, width)
        self.mid_attn = attention(width)
        self.up_plan = []
        for i in range(len(channels) - 1, -1, -1):
            for j in range(layers + 1):
                skip = skip_channels.pop()
                self.add_module(f"up{i}_res{j}", res(width + skip, channels[i]))
                width = channels[i]
                attn = f"up{i}_attn{j}" if c["attentionLevels"][i] else None
                if attn:
                    self.add_module(attn, attention(width))
                self.up_plan.append((f"up{i}_res{j}", attn))
            if i > 0:
                self.add_module(f"up{i}_upsample", Upsample(width))
                self.up_plan.append((f"up{i}_upsample", None))
        self.normOut = GroupNorm(groups, width)
        self.convOut = Conv2d(width, c["outChannels"])

    def forward(self, sample, timesteps, context, context_mask=None):
        temb = self.time(timesteps)
        h = self.convIn(sample)
        skips = [h]
        for name, attn in self.down_plan:
            module = getattr(self, name)
            h = module(h) if name.endswith("downsample") else module(h, temb)
            if attn:
                h = getattr(self, attn)(h, context, context_mask)
            skips.append(h)
        h = self.mid_res0(h, temb)
        h = self.mid_attn(h, context, context_mask)
        h = self.mid_res1(h, temb)
        for name, attn in self.up_plan:
            module = getattr(self, name)
            if name.endswith("upsample"):
                h = module(h)
                continue
            h = module(torch.cat([h, skips.pop()], dim=1), temb)
            if attn:
                h = getattr(self, attn)(h, context, context_mask)
        return self.convOut(F.silu(self.normOut(h)))


class TextEncoder(nn.Module):
    """src/models/transformerTextEncoder.ts (no soft prompt)."""

    def __init__(self, c, vocabulary_size, max_length):
        super().__init__()
        width = c["width"]
        self.tokenEmbedding = nn.Parameter(torch.randn(vocabulary_size, width) * 0.02)
        self.positionEmbedding = nn.Parameter(torch.randn(max_length, width) * 0.01)
        self.layers = c["layers"]
        for i in range(c["layers"]):
            block = TransformerBlock(width, c["heads"], True, None, c["mlpRatio"])
            self.add_module(f"block{i}", block)
        self.finalNorm = LayerNorm(width)

    def forward(self, ids, mask):
        h = self.tokenEmbedding[ids] + self.positionEmbedding
        for i in range(self.layers):
            h = getattr(self, f"block{i}")(h, None, None, mask)
        return self.finalNorm(h)


class Decoder(nn.Module):
    """The decoder half of src/models/autoencoder.ts (KLAutoencoder.decode)."""

    def __init__(self, c):
        super().__init__()
        channels, groups, layers = c["blockChannels"], c["normGroups"], c["layersPerBlock"]
        top = channels[-1]
        self.scaling = c["scalingFactor"]
        self.decoderIn = Conv2d(c["latentChannels"], top)
        self.decoderMid = ResBlock(top, top, groups)
        self.plan = []
        width = top
        for i in range(len(channels) - 1, -1, -1):
            for j in range(layers + 1):
                self.add_module(f"decoder{i}_res{j}", ResBlock(width, channels[i], groups))
                self.plan.append(f"decoder{i}_res{j}")
                width = channels[i]
            if i > 0:
                self.add_module(f"decoder{i}_up", Upsample(width))
                self.plan.append(f"decoder{i}_up")
        self.decoderNorm = GroupNorm(groups, width)
        self.decoderOut = Conv2d(width, c["imageChannels"])

    def forward(self, scaled_latents):
        h = self.decoderMid(self.decoderIn(scaled_latents / self.scaling))
        for name in self.plan:
            h = getattr(self, name)(h)
        return self.decoderOut(F.silu(self.decoderNorm(h)))


def build(config):
    text = TextEncoder(config["textEncoder"], config["vocabularySize"], config["maxLength"])
    return text, UNet(config["unet"]), Decoder(config["autoencoder"])


# ---------------------------------------------------------------------------- weights


def to_torch_layout(name, values):
    """fairdiff layout → this twin's: conv kernels [k,k,in,out] → [out,in,k,k]; Linear Wᵀ."""
    if name.endswith(".kernel"):
        return values.permute(3, 2, 0, 1)
    if name.endswith(".weight") and values.dim() == 2:
        return values.t()
    return values


def to_fairdiff_layout(name, values):
    if name.endswith(".kernel"):
        return values.permute(2, 3, 1, 0)
    if name.endswith(".weight") and values.dim() == 2:
        return values.t()
    return values


def load_weights(module, weights, prefix):
    """Copies `prefix.<name>` for every parameter of `module`; every one must be present."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            key = f"{prefix}.{name}"
            if key not in weights:
                raise KeyError(f"no exported weight {key}")
            value = to_torch_layout(name, weights[key])
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"{key}: shape {tuple(value.shape)} vs twin {tuple(p.shape)}")
            p.copy_(value)


# ---------------------------------------------------------------------------- computations


def nhwc_to_nchw(x):
    return x.permute(0, 3, 1, 2).contiguous()


def nchw_to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def denoising_loss(text, unet, batch):
    """src/pipeline/denoiserReplica.ts perSampleDenoisingLoss (ε-prediction), mean over batch."""
    signal = batch["signal"].view(-1, 1, 1, 1)
    spread = batch["spread"].view(-1, 1, 1, 1)
    noisy = batch["latents"] * signal + batch["noise"] * spread
    context = text(batch["tokenIds"], batch["tokenMask"])
    output = unet(noisy, batch["timesteps"], context, batch["tokenMask"])
    return ((output - batch["noise"]) ** 2).mean(dim=(1, 2, 3)).mean()


def ddim_sample(text, unet, decoder, latents, cond, null, schedule, scale):
    """src/pipeline/textToImage.ts: CFG-stacked UNet calls, DDIM η = 0, then decode to [0, 1]."""
    context = torch.cat([text(*null), text(*cond)])
    context_mask = torch.cat([null[1], cond[1]])
    timesteps, alpha_bars = schedule["timesteps"], schedule["alphaBars"]
    x = latents
    for i, t in enumerate(timesteps):
        stacked = torch.cat([x, x])
        t_batch = torch.full((stacked.shape[0],), float(t), device=stacked.device)
        out = unet(stacked, t_batch, context, context_mask)
        uncond, cond_out = out.chunk(2)
        eps = uncond + (cond_out - uncond) * scale
        a_t = alpha_bars[i]
        a_prev = alpha_bars[i + 1] if i + 1 < len(timesteps) else 1.0
        original = (x - eps * math.sqrt(1 - a_t)) / math.sqrt(a_t)
        x = original * math.sqrt(a_prev) + eps * math.sqrt(1 - a_prev)
    return ((decoder(x) + 1) / 2).clamp(0, 1)


def batch_from(inputs):
    batch = {name: inputs[name] for name in ("signal", "spread", "timesteps")}
    batch["latents"] = nhwc_to_nchw(inputs["latents"])
    batch["noise"] = nhwc_to_nchw(inputs["noise"])
    batch["tokenIds"] = inputs["tokenIds"].long()
    batch["tokenMask"] = inputs["tokenMask"]
    return batch


def check(directory):
    torch.set_num_threads(1)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    weights = read_tensors(os.path.join(directory, "weights"))
    inputs = read_tensors(os.path.join(directory, "inputs"))
    text, unet, decoder = build(config)
    load_weights(text, weights, "text")
    load_weights(unet, weights, "unet")
    load_weights(decoder, weights, "autoencoder")
    batch = batch_from(inputs)
    with torch.no_grad():
        embeddings = text(batch["tokenIds"], batch["tokenMask"])
        unet_out = unet(batch["latents"], batch["timesteps"], embeddings, batch["tokenMask"])
        decoded = decoder(batch["latents"])
    params = [("text", text), ("unet", unet)]
    loss = denoising_loss(text, unet, batch)
    loss.backward()
    outputs = {
        "text": embeddings,
        "unet": nchw_to_nhwc(unet_out),
        "decoded": nchw_to_nhwc(decoded),
        "loss": loss.detach().reshape(1),
    }
    for prefix, module in params:
        for name, p in module.named_parameters():
            outputs[f"grad:{prefix}.{name}"] = to_fairdiff_layout(name, p.grad)
    write_tensors(os.path.join(directory, "outputs"), outputs)
    print(json.dumps({"loss": loss.item(), "torch": torch.__version__}))


def bench(directory, steps, threads):
    """Timings of the twin; FAIRDIFF_TWIN_DEVICE=cuda runs it on the GPU (the GPU benchmark)."""
    device = torch.device(os.environ.get("FAIRDIFF_TWIN_DEVICE", "cpu"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    weights = read_tensors(os.path.join(directory, "weights"))
    inputs = read_tensors(os.path.join(directory, "inputs"))
    text, unet, decoder = build(config)
    load_weights(text, weights, "text")
    load_weights(unet, weights, "unet")
    load_weights(decoder, weights, "autoencoder")
    bench_config = config["bench"]
    for module in (text, unet, decoder):
        module.to(device)

    batch = {name: value.to(device) for name, value in batch_from(inputs).items()}
    params = list(text.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(
        params, lr=bench_config["learningRate"], weight_decay=bench_config["weightDecay"]
    )

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = denoising_loss(text, unet, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, bench_config["clipNorm"])
        opt.step()
        return loss.item()

    for _ in range(2):
        train_step()
    step_ms = []
    cpu_start = time.process_time()
    for _ in range(steps):
        start = time.perf_counter()
        train_step()
        step_ms.append((time.perf_counter() - start) * 1000)
    cpu_ms_per_step = (time.process_time() - cpu_start) / steps * 1000

    sample_inputs = read_tensors(os.path.join(directory, "sample"))
    sample_inputs = {name: value.to(device) for name, value in sample_inputs.items()}
    latents = nhwc_to_nchw(sample_inputs["latents"])
    cond = (sample_inputs["condIds"].long(), sample_inputs["condMask"])
    null = (sample_inputs["nullIds"].long(), sample_inputs["nullMask"])
    schedule = bench_config["schedule"]
    scale = bench_config["guidanceScale"]
    rounds = bench_config["sampleRounds"]
    with torch.inference_mode():
        ddim_sample(text, unet, decoder, latents, cond, null, schedule, scale)
        cpu_start = time.process_time()
        start = time.perf_counter()
        for _ in range(rounds):
            images = ddim_sample(text, unet, decoder, latents, cond, null, schedule, scale)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / rounds
        cpu_seconds = (time.process_time() - cpu_start) / rounds
    print(
        json.dumps(
            {
                "ms_per_step": float(np.median(step_ms)),
                "step_ms": step_ms,
                "cpu_ms_per_step": cpu_ms_per_step,
                "images_per_s": latents.shape[0] / seconds,
                "cpu_s_per_image": cpu_seconds / latents.shape[0],
                "ms_per_sampling_batch": seconds * 1000,
                "image_mean": images.mean().item(),
                "threads": threads,
                "torch": torch.__version__,
            }
        )
    )


def main():
    mode = sys.argv[1]
    if mode == "check":
        check(sys.argv[2])
    elif mode == "bench":
        bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
