"""Offline re-implementations of publicly reported initialization faults, each with its fix.

Every function here reproduces, in a few lines, the code a report quotes (or the formula it describes), in
the calling convention the auditor uses for its framework: numpy ``f(shape, rng) -> array`` (torch layout
``(out, in, *k)`` unless the case's layer says otherwise), torch ``f(tensor, generator=None)`` in place,
Keras ``f(shape, dtype=None)``.  The citations, and how each is audited, are in :mod:`tests.faults.catalogue`.

``truncnorm`` below is scipy's; ``C`` is the std of a standard normal truncated to [-2, 2] (the
``.87962566103423978`` of JAX/Keras).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

C = float(stats.truncnorm.std(-2, 2))


def torch_fans(shape):
    """torch.nn.init._calculate_fan_in_and_fan_out on a shape: (size(1)*rf, size(0)*rf)."""
    rf = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * rf, shape[0] * rf


def keras_fans(shape):
    """keras/src/initializers/random_initializers.py compute_fans: a rank > 2 kernel is read as a conv kernel
    (k..., in, out): rf = prod(shape[:-2])."""
    if len(shape) == 2:
        return shape[0], shape[1]
    rf = int(np.prod(shape[:-2]))
    return shape[-2] * rf, shape[-1] * rf


def _trunc(shape, rng, std_param):
    return stats.truncnorm.rvs(-2, 2, size=shape, random_state=rng) * std_param


# ------------------------------------------------------------------ truncated normal without the .8796 correction


def tf_glorot_normal_uncorrected(shape, rng):
    """tf.variance_scaling_initializer(distribution='normal') before TF 1.x's fix (tensorflow#16344): the
    normal's std is sqrt(scale/n), then truncated at 2 std: variance 0.774*scale/n."""
    fi, fo = torch_fans(shape)
    return _trunc(shape, rng, math.sqrt(2.0 / (fi + fo)))


def tf_glorot_normal_corrected(shape, rng):
    fi, fo = torch_fans(shape)
    return _trunc(shape, rng, math.sqrt(2.0 / (fi + fo)) / C)


def keras_he_normal_uncorrected(shape, rng):
    """Keras 2.0 VarianceScaling via K.truncated_normal(stddev=sqrt(2/fan_in)) (keras#8048)."""
    return _trunc(shape, rng, math.sqrt(2.0 / torch_fans(shape)[0]))


def keras_he_normal_corrected(shape, rng):
    return _trunc(shape, rng, math.sqrt(2.0 / torch_fans(shape)[0]) / C)


def tfjs_lecun_normal_uncorrected(shape, rng):
    """tfjs-layers VarianceScaling 'normal': truncatedNormal(stddev=sqrt(scale/n)) (tfjs#8594)."""
    return _trunc(shape, rng, math.sqrt(1.0 / torch_fans(shape)[0]))


def tfjs_lecun_normal_corrected(shape, rng):
    return _trunc(shape, rng, math.sqrt(1.0 / torch_fans(shape)[0]) / C)


# ------------------------------------------------------------------ fans read from the wrong axes


def flux_glorot_uniform_sumdims(shape, rng):
    """Flux.jl 0.6 utils.jl: glorot_uniform(dims...) = (rand(dims...) .- 0.5) .* sqrt(24/sum(dims)):
    fan_in + fan_out = sum of every dim, wrong for a conv kernel (Flux#442)."""
    return (rng.random(shape) - 0.5) * math.sqrt(24.0 / sum(shape))


def glorot_uniform(shape, rng):
    fi, fo = torch_fans(shape)
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def keras1_glorot_fan_out_no_rf(shape, rng):
    """Keras 1.0 get_fans for a 'th' conv kernel: fan_out = shape[0], the receptive field left out
    (fixed by keras#2252)."""
    rf = int(np.prod(shape[2:]))
    fi, fo = shape[1] * rf, shape[0]
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def caffe_xavier_count_over_num(shape, rng):
    """Caffe filler.hpp XavierFiller with a 2-D InnerProduct blob (1, 1, out, in): fan_in = count/num =
    out*in, so scale = sqrt(3/(out*in)) instead of sqrt(3/in) (BVLC/caffe#1575)."""
    n = int(np.prod(shape))
    s = math.sqrt(3.0 / n)
    return rng.uniform(-s, s, size=shape)


def caffe_xavier_fan_in(shape, rng):
    s = math.sqrt(3.0 / torch_fans(shape)[0])
    return rng.uniform(-s, s, size=shape)


def caffe2_xavier_fill(shape, rng):
    """caffe2 filler_op.h XavierFill: U(+-sqrt(3/fan_in)), fan_in = size/dim(0), named after Glorot but
    not Glorot's fan average (caffe2#2531)."""
    fan_in = int(np.prod(shape)) // shape[0]
    s = math.sqrt(3.0 / fan_in)
    return rng.uniform(-s, s, size=shape)


def tflearn_xavier_normal_sqrt3(shape, rng):
    """tflearn xavier(uniform=False) as documented: std sqrt(3/(in+out)) instead of sqrt(2/(in+out))
    (tflearn#870)."""
    fi, fo = torch_fans(shape)
    return rng.normal(0.0, math.sqrt(3.0 / (fi + fo)), size=shape)


def xavier_normal(shape, rng):
    fi, fo = torch_fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fi + fo)), size=shape)


def timm_goog_fan_out_ungrouped(shape, rng):
    """timm efficientnet_builder._init_weight_goog: fan_out = k*k*out_channels, not divided by groups
    (pytorch-image-models#84); He normal over it.  The layer's groups (4) are known to the test's layer."""
    k2 = int(np.prod(shape[2:]))
    return rng.normal(0.0, math.sqrt(2.0 / (k2 * shape[0])), size=shape)


def timm_goog_fan_out_grouped(shape, rng, groups=4):
    k2 = int(np.prod(shape[2:]))
    return rng.normal(0.0, math.sqrt(2.0 / (k2 * shape[0] // groups)), size=shape)


def mlx_grouped_conv_ungrouped_fan_in(shape, rng, groups=4):
    """mlx python/mlx/nn/layers/convolution.py Conv2d: scale = sqrt(1/(in_channels*k*k)) while the weight
    holds in_channels//groups inputs per output (mlx#4536)."""
    k2 = int(np.prod(shape[2:]))
    s = math.sqrt(1.0 / (shape[1] * groups * k2))
    return rng.uniform(-s, s, size=shape)


def mlx_grouped_conv_fixed(shape, rng):
    k2 = int(np.prod(shape[2:]))
    s = math.sqrt(1.0 / (shape[1] * k2))
    return rng.uniform(-s, s, size=shape)


def keras_einsum_compute_fans(shape, rng):
    """Keras glorot_uniform on an EinsumDense kernel (E, H, D): compute_fans reads it as a conv kernel,
    rf = E, fans (H*E, D*E) (keras PR #22789)."""
    fi, fo = keras_fans(shape)
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def keras_einsum_axes(shape, rng):
    """The fix: fans from the einsum's axes, fan_in = E, fan_out = H*D."""
    fi, fo = shape[0], shape[1] * shape[2]
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def lasagne_bc01_on_c01b(shape, rng):
    """Lasagne init.Uniform (Glorot) on a cuda-convnet c01b kernel (C_in, k, k, C_out) with the bc01 rule:
    fan_in = prod(shape[1:]), fan_out = shape[0]*prod(shape[2:]) (Lasagne#49)."""
    fi = int(np.prod(shape[1:]))
    fo = shape[0] * int(np.prod(shape[2:]))
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def lasagne_c01b_fixed(shape, rng):
    rf = shape[1] * shape[2]
    fi, fo = shape[0] * rf, shape[3] * rf
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


# ------------------------------------------------------------------ wrong constants


def tinygrad_linear_kaiming_uniform(shape, rng):
    """tinygrad nn.Linear before PR #901: Tensor.kaiming_uniform(out, in) (a = 0): U(+-sqrt(6/fan_in)), where
    torch's Linear draws U(+-1/sqrt(fan_in))."""
    b = math.sqrt(6.0 / torch_fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


def torch_linear_default(shape, rng):
    b = 1.0 / math.sqrt(torch_fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


def tch_kaiming_uniform_no_sqrt3(shape, rng):
    """tch-rs Init::KaimingUniform before PR #573: bound = 1/sqrt(fan_in) (no sqrt(3), no ReLU gain)."""
    b = 1.0 / math.sqrt(torch_fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


def he_uniform(shape, rng):
    b = math.sqrt(6.0 / torch_fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


# ------------------------------------------------------------------ orthogonal


def tf_orthogonal_uniform_svd(shape, rng):
    """tf.orthogonal_initializer r0.12 (tensorflow#10719): SVD of a U(0, 1) matrix, not centred: exactly
    orthogonal, but the top singular vector is nearly constant."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.uniform(0.0, 1.0, size=(rows, cols))
    u, _, v = np.linalg.svd(a, full_matrices=False)
    q = u if u.shape == (rows, cols) else v
    return q.reshape(shape)


def orthogonal_haar(shape, rng):
    """Mezzadri (2007): QR of a Gaussian matrix with the signs of diag(R) folded into Q."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q.reshape(shape)


def chainer_orthogonal_no_sign(shape, rng):
    """chainer initializers.Orthogonal before PR #5615 (and tensorflow#9429's first QR version): QR without
    the sign correction, so Q is not Haar-distributed (its signs are biased)."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, _ = np.linalg.qr(a)
    if rows < cols:
        q = q.T
    return q.reshape(shape)


# ------------------------------------------------------------------ randomness that ignores the rng


def tfjs_glorot_uniform_ignores_seed(shape, rng):
    """tfjs initializers.glorotUniform({seed}) (tfjs#7104): the seed is ignored, values come from the global
    RNG (here numpy's legacy global state)."""
    fi, fo = torch_fans(shape)
    b = math.sqrt(6.0 / (fi + fo))
    return np.random.uniform(-b, b, size=shape)


def lux_sparse_global_shuffle(shape, rng, sparsity=0.5, std=0.01):
    """Lux.jl sparse_init (Lux#1185): values from the given rng, zero positions from shuffle() without it."""
    rows, cols = shape
    w = rng.normal(0.0, std, size=shape)
    k = math.ceil(sparsity * rows)
    for j in range(cols):
        w[np.random.permutation(rows)[:k], j] = 0.0
    return w


def lux_sparse_rng(shape, rng, sparsity=0.5, std=0.01):
    rows, cols = shape
    w = rng.normal(0.0, std, size=shape)
    k = math.ceil(sparsity * rows)
    for j in range(cols):
        w[rng.permutation(rows)[:k], j] = 0.0
    return w


# ------------------------------------------------------------------ complex


def trabelsi_complex_glorot_s_not_sqrt(shape, rng):
    """deep_complex_networks complexnn/init.py ComplexInit('glorot'): Rayleigh mode s = 1/(fan_in+fan_out)
    where the paper's Var(W) = 2/(fan_in+fan_out) needs s = 1/sqrt(fan_in+fan_out) (issue #35)."""
    fi, fo = torch_fans(shape)
    return _rayleigh_phase(shape, rng, 1.0 / (fi + fo))


def trabelsi_complex_glorot(shape, rng):
    fi, fo = torch_fans(shape)
    return _rayleigh_phase(shape, rng, 1.0 / math.sqrt(fi + fo))


def _rayleigh_phase(shape, rng, s):
    modulus = rng.rayleigh(scale=s, size=shape)
    phase = rng.uniform(-np.pi, np.pi, size=shape)
    return (modulus * np.exp(1j * phase)).astype(np.complex64)


def netket_complex_zero_imag(shape, rng):
    """netket#424: JAX networks with complex weights got a zero imaginary part (a real lecun normal cast to
    complex)."""
    w = rng.normal(0.0, math.sqrt(1.0 / torch_fans(shape)[0]), size=shape)
    return w.astype(np.complex64)


def complex_lecun_normal(shape, rng):
    """Complex normal with E|w|^2 = 1/fan_in: independent real and imaginary parts of variance 1/(2 fan_in)."""
    s = math.sqrt(0.5 / torch_fans(shape)[0])
    return (rng.normal(0.0, s, size=shape) + 1j * rng.normal(0.0, s, size=shape)).astype(np.complex64)


# ------------------------------------------------------------------ torch (in place, generator)


def torch_impls():
    """The torch re-implementations (imported lazily: torch is optional for the numpy cases)."""
    import torch
    from torch.nn import init

    def mha_packed_xavier(w, generator=None):
        """torch/nn/modules/activation.py MultiheadAttention._reset_parameters: xavier_uniform_ on the packed
        (3E, E) in_proj_weight: fan_out 3E, variance half a q/k/v projection's (pytorch#166378)."""
        return init.xavier_uniform_(w, generator=generator)

    def mha_per_block_xavier(w, generator=None):
        e = w.shape[0] // 3
        for i in range(3):
            init.xavier_uniform_(w[i * e:(i + 1) * e], generator=generator)
        return w

    def selu_gain(w, generator=None):
        """kaiming_normal_(nonlinearity='selu'): calculate_gain('selu') = 3/4 (pytorch PR #50664), not the
        LeCun normal a self-normalizing net needs (pytorch PR #53694)."""
        return init.kaiming_normal_(w, nonlinearity="selu", generator=generator)

    def lecun_normal(w, generator=None):
        return init.kaiming_normal_(w, nonlinearity="linear", generator=generator)

    def depthwise_fan_out_torch(w, generator=None):
        """kaiming_normal_(mode='fan_out') on a depthwise Conv2d(C, C, 3, groups=C) weight (C, 1, 3, 3):
        torch's fan_out = C*9, the layer's is 9 (pytorch#23854)."""
        return init.kaiming_normal_(w, mode="fan_out", generator=generator)

    def depthwise_fan_out_fixed(w, generator=None):
        k2 = w[0, 0].numel()
        with torch.no_grad():
            return w.normal_(0.0, math.sqrt(2.0 / k2), generator=generator)

    def nfnet_fan_out_relu(w, generator=None):
        """nfnets-pytorch resnet.py: kaiming_normal_(mode='fan_out', nonlinearity='relu') where the NF-ResNet
        needs fan_in, linear (nfnets-pytorch#30)."""
        return init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=generator)

    def nfnet_fan_in_linear(w, generator=None):
        return init.kaiming_normal_(w, mode="fan_in", nonlinearity="linear", generator=generator)

    def flownet_fan_out(w, generator=None):
        """FlowNetPytorch models: normal_(0, sqrt(2/n)) with n = k*k*out_channels, where Caffe's msra filler
        (what the port reproduces) uses fan_in (FlowNetPytorch#19)."""
        n = w.shape[0] * w[0, 0].numel()
        with torch.no_grad():
            return w.normal_(0.0, math.sqrt(2.0 / n), generator=generator)

    def flownet_fan_in(w, generator=None):
        n = w.shape[1] * w[0, 0].numel()
        with torch.no_grad():
            return w.normal_(0.0, math.sqrt(2.0 / n), generator=generator)

    def hf_conv1d_hardcoded(w, generator=None):
        """transformers Conv1D.__init__: normal_(std=0.02) hard-coded, config.initializer_range (here 0.05)
        ignored since PR #42191 (transformers PR #48152)."""
        return init.normal_(w, std=0.02, generator=generator)

    def hf_conv1d_range(w, generator=None):
        return init.normal_(w, std=HF_RANGE, generator=generator)

    def xclip_factor(w, generator=None):
        """transformers x_clip _init_weights: Linear weight normal_(std=config.initializer_factor) = 1.0
        instead of factor * 0.02 (transformers PR #39772)."""
        return init.normal_(w, std=1.0, generator=generator)

    def xclip_factor_002(w, generator=None):
        return init.normal_(w, std=0.02, generator=generator)

    def sparse_torch(w, generator=None):
        """The installed torch.nn.init.sparse_: values from ``generator``, zero rows from
        torch.randperm(rows) on the global RNG (pytorch PR #196941)."""
        return init.sparse_(w, sparsity=0.5, std=0.01, generator=generator)

    def sparse_generator(w, generator=None):
        rows, cols = w.shape
        k = math.ceil(0.5 * rows)
        with torch.no_grad():
            w.normal_(0.0, 0.01, generator=generator)
            for j in range(cols):
                w[torch.randperm(rows, generator=generator)[:k], j] = 0
        return w

    def dirac_no_groups(w, generator=None):
        """dirac_ without groups on a grouped conv weight (C, C/G, k, k): only the first C/G output channels
        get an identity (pytorch PR #32825 added groups)."""
        return init.dirac_(w)

    def dirac_groups(w, generator=None):
        return init.dirac_(w, groups=4)

    def trunc_normal_low_precision(w, generator=None, mean=0.0, std=0.01, a=-2.0, b=2.0):
        """torch.nn.init._no_grad_trunc_normal_ before PR #174997: uniform_ then erfinv_ in the tensor's own
        dtype; in bfloat16 ~0.4% of the values end at the clamp bound a (pytorch#145498)."""
        def cdf(x):
            return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
        lo, hi = cdf((a - mean) / std), cdf((b - mean) / std)
        with torch.no_grad():
            w.uniform_(2 * lo - 1, 2 * hi - 1, generator=generator)
            w.erfinv_()
            w.mul_(std * math.sqrt(2.0))
            w.add_(mean)
            w.clamp_(min=a, max=b)
        return w

    def trunc_normal_float32(w, generator=None):
        """The fix (pytorch PR #175046): compute in float32, then copy into the low-precision tensor."""
        tmp = torch.empty(w.shape, dtype=torch.float32)
        trunc_normal_low_precision(tmp, generator=generator)
        with torch.no_grad():
            w.copy_(tmp)
        return w

    def linear_zero_in_features_old(w, generator=None):
        """torch 1.7 Linear.reset_parameters on Linear(0, k): kaiming_uniform_(a=sqrt(5)) divides by
        sqrt(fan_in) = 0: ZeroDivisionError (pytorch#48152)."""
        fan_in = w.shape[1]
        gain = math.sqrt(2.0 / (1 + 5))
        bound = gain * math.sqrt(3.0 / fan_in)
        with torch.no_grad():
            return w.uniform_(-bound, bound, generator=generator)

    def linear_zero_in_features_new(w, generator=None):
        return init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)

    def bert_layernorm_normal(w, generator=None):
        """pytorch-pretrained-bert init_bert_weights: BERTLayerNorm gamma (and beta) drawn
        normal_(0, initializer_range) instead of left at ones/zeros (transformers#143)."""
        return init.normal_(w, std=0.02, generator=generator)

    def bert_layernorm_ones(w, generator=None):
        return init.ones_(w)

    def bias_zeros(w, generator=None):
        """aprender PR #2167: Linear bias initialized to zeros where torch draws U(+-1/sqrt(fan_in))."""
        return init.zeros_(w)

    def bias_uniform(w, generator=None):
        b = 1.0 / math.sqrt(BIAS_FAN_IN)
        return init.uniform_(w, -b, b, generator=generator)

    return {k: v for k, v in locals().items() if callable(v) and not k.startswith(("torch", "init"))}


#: the initializer_range of the HF case's config (not the 0.02 default, so a hard-coded 0.02 shows)
HF_RANGE = 0.05
#: fan_in of the layer whose bias the aprender case audits
BIAS_FAN_IN = 64


def jax_impls():
    """The JAX cases (jax imported lazily); JAX convention ``f(key, shape, dtype)``, kernel (in, out)."""
    import jax

    def asi_lecun_uniform_bound(key, shape, dtype=None):
        """SlopDotCash/asi initializers.sparse_init, init_type='uniform' (documented LeCun uniform), dense
        case: U(+-1/sqrt(fan_in)), variance a third of LeCun's 1/fan_in (SlopDotCash/asi#131)."""
        b = 1.0 / math.sqrt(shape[0])
        return jax.random.uniform(key, shape, dtype or "float32", -b, b)

    def asi_lecun_uniform_fixed(key, shape, dtype=None):
        b = math.sqrt(3.0 / shape[0])
        return jax.random.uniform(key, shape, dtype or "float32", -b, b)

    return {"asi_lecun_uniform_bound": asi_lecun_uniform_bound, "asi_lecun_uniform_fixed": asi_lecun_uniform_fixed}


def keras_impls():
    """The Keras cases (keras imported lazily)."""
    from tests.zoo._compat import ensure_keras_backend

    ensure_keras_backend()
    import keras

    def depthwise_glorot_keras(shape, dtype=None):
        """keras.initializers.GlorotUniform on a DepthwiseConv2D kernel (k, k, C, m): compute_fans gives
        fan_in = C*k*k, the layer's is k*k (keras#11773)."""
        return keras.initializers.GlorotUniform()(shape, dtype=dtype)

    def depthwise_glorot_fixed(shape, dtype=None):
        k2 = shape[0] * shape[1]
        fi, fo = k2, shape[3] * k2
        b = math.sqrt(6.0 / (fi + fo))
        return keras.random.uniform(shape, -b, b, dtype=dtype or "float32")

    return {"depthwise_glorot_keras": depthwise_glorot_keras, "depthwise_glorot_fixed": depthwise_glorot_fixed}
