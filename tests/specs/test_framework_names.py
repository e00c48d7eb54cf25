"""Framework-ambiguous spec names (issue 14, gap 7): ``he_normal``/``glorot_normal``/``lecun_normal`` are
truncated normals in JAX/Keras and untruncated in PyTorch/MLX; ``parse_spec(text, framework=...)`` resolves
them by the framework under audit and the output names the law used.  The README's assert_initializer
example runs as written."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from invariants.specs import (GLOROT_NORMAL, HE_NORMAL, KAIMING_NORMAL_TORCH, LECUN_NORMAL, XAVIER_NORMAL_TORCH,
                              framework_name, parse_spec)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name, torch_spec, jax_spec", [
    ("he_normal", KAIMING_NORMAL_TORCH, HE_NORMAL), ("glorot_normal", XAVIER_NORMAL_TORCH, GLOROT_NORMAL),
    ("lecun_normal", None, LECUN_NORMAL)])
def test_names_resolve_by_framework(name, torch_spec, jax_spec):
    for fw in ("torch", "mlx"):
        spec = parse_spec(name, framework=fw)
        assert spec.distribution == "normal" and spec.scale == (torch_spec or spec).scale
        assert f"{name} under {fw} = " in spec.describe() and "untruncated" in spec.describe()
    for fw in ("jax", "flax", "keras", "equinox"):
        spec = parse_spec(name, framework=fw)
        assert (spec.scale, spec.mode, spec.distribution) == (jax_spec.scale, jax_spec.mode, jax_spec.distribution)
        assert "truncated normal" in framework_name(name, fw)
    # no framework (or one without such names): today's JAX/Keras meaning, unchanged
    assert parse_spec(name) is jax_spec and parse_spec(name, framework="numpy") is jax_spec
    assert framework_name(name, None) is None
    assert parse_spec(f"{name}()", framework="torch").distribution == "normal"


def test_unambiguous_names_and_calls_are_unchanged():
    assert parse_spec("he_uniform", framework="torch") == parse_spec("he_uniform")
    assert parse_spec("normal(std=0.02)", framework="torch") == parse_spec("normal(std=0.02)")
    assert parse_spec("lecun_normal", framework="torch").law(100, 10).std == pytest.approx(0.1)


def test_readme_assert_initializer_example_passes_and_names_the_law():
    torch = pytest.importorskip("torch")
    from invariants.testing import assert_initializer

    line = next(ln.strip() for ln in README.read_text(encoding="utf-8").splitlines()
                if ln.strip().startswith("assert_initializer(my_init"))
    report = eval(line, {"assert_initializer": assert_initializer, "my_init": torch.nn.init.kaiming_normal_})
    (r,) = report.results
    assert r.verdict == "conforms"
    assert "he_normal under torch = kaiming_normal_(mode='fan_in', nonlinearity='relu'): N(0, 2/fan_in), " \
           "untruncated" in r.message


def test_a_truncated_draw_fails_he_normal_under_torch():
    """Mutation: the JAX/Keras law (truncated at +-2 std, corrected) is not what he_normal means under torch."""
    torch = pytest.importorskip("torch")
    from invariants.testing import assert_initializer

    def keras_he_normal(w):  # keras.initializers.HeNormal written with torch ops
        s = math.sqrt(2.0 / math.prod(w.shape[1:])) / 0.8796256610342398
        return torch.nn.init.trunc_normal_(w, std=s, a=-2 * s, b=2 * s)

    with pytest.raises(AssertionError, match=re.escape("he_normal under torch = kaiming_normal_")):
        assert_initializer(keras_he_normal, expect="he_normal", layer="conv2d(32,64,k=3)", framework="torch")
