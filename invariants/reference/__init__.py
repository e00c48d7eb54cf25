"""The numpy reference network: exact (bitwise permutation-equivariant) and BLAS kernels,
activations, losses, optimizers, training and gradient checks."""
from invariants.reference.activations import ACTIVATIONS, get_activation  # noqa: F401
from invariants.reference import ozaki  # noqa: F401
from invariants.reference.kernels import KERNELS, canonical_sum, matmul  # noqa: F401
from invariants.reference.losses import LOSSES  # noqa: F401
from invariants.reference.network import (  # noqa: F401
    Architecture,
    Params,
    forward,
    init_params,
    loss_and_grad,
    permute_hidden,
    predict,
    random_params,
)
from invariants.reference.optimizers import OPTIMIZERS, Optimizer, make_optimizer  # noqa: F401
from invariants.reference.training import TrainResult, train  # noqa: F401
