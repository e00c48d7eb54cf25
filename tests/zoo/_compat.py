"""Import torchvision (and so timm, and transformers' image utilities) when its compiled ops cannot load.

The registry's torchvision wheels are CUDA builds: against the CPU torch their ``_C.so`` does not load, and
``torchvision/_meta_registrations.py`` then fails at import (``register_fake("torchvision::nms")``:
"operator torchvision::nms does not exist"), which also breaks ``import timm`` (timm/layers/create_norm.py
imports ``torchvision.ops.misc.FrozenBatchNorm2d``) and transformers' ``image_utils``.  The models are pure
Python: registering fake kernels for detection ops is all that fails.  :func:`ensure_torchvision` first tries
the normal import; only if it fails on that error does it put an empty module in place of
``torchvision._meta_registrations`` and import again, so a working (CPU) torchvision is left untouched.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

_STUB = "torchvision._meta_registrations"


def ensure_torchvision() -> bool:
    """Make ``import torchvision`` work; True if torchvision is importable afterwards, False if absent."""
    if "torchvision" in sys.modules and _STUB in sys.modules:
        return True
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        importlib.import_module("torchvision")
        return True
    except RuntimeError as exc:
        if "does not exist" not in str(exc):
            raise
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    sys.modules[_STUB] = types.ModuleType(_STUB)
    importlib.import_module("torchvision")
    return True


def ensure_keras_backend() -> None:
    """Keras defaults to TensorFlow, which is not installed here: use JAX unless ``KERAS_BACKEND`` is set (the
    same rule as invariants/modelcheck/frameworks/keras.py)."""
    if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("jax") is not None:
        os.environ["KERAS_BACKEND"] = "jax"


def available(module: str) -> bool:
    """True if ``module`` imports (after :func:`ensure_torchvision` for the torch model libraries)."""
    if module in ("timm", "transformers", "torchvision"):
        ensure_torchvision()
    if module in ("keras", "keras_hub"):  # keras_hub imports keras: the backend must be set first
        ensure_keras_backend()
    if importlib.util.find_spec(module) is None:
        return False
    try:
        importlib.import_module(module)
        return True
    except Exception:  # noqa: BLE001  a broken optional install counts as missing
        return False
