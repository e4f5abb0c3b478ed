"""Maintainer tools, not user verbs: generate the committed ``hub_models/`` and
``kipoi_models/`` folders from the package and detect drift between them and the code."""
