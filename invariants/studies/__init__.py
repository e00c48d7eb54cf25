"""Studies: experiments too heavy for ``invariants verify``, each a module with a function that
regenerates its data and a ``python -m invariants.studies.<name>`` entry point printing a table."""
