"""Frameworks: everything that depends on a deep-learning framework, behind one interface.

:class:`~invariants.frameworks.base.Framework` (name, requirements and install hint, weight layout,
initializer calling convention, catalogue, model view, seeded generator); one folder per framework
(``numpy``, ``torch``, ``jax``, ``flax``, ``keras``, ``reference``); the registry
(:mod:`~invariants.frameworks.registry`: built-in folders plus the ``invariants.frameworks`` entry-point
group); the data the audit and the model check consume (:mod:`~invariants.frameworks.subjects`,
:mod:`~invariants.frameworks.model`); and the conformance checks every framework passes
(:mod:`~invariants.frameworks.conformance`).

Importing this package imports no framework.  Layer below: :mod:`invariants.layers`,
:mod:`invariants.laws`, :mod:`invariants.specs`, :mod:`invariants.stats`, :mod:`invariants.reference`,
:mod:`invariants.core`; above: :mod:`invariants.audit`, :mod:`invariants.modelcheck`.
"""
