"""Everything that reaches the network, in one place: resumable checked downloads and the cache
(``downloads``), the released models and their archive (``releases``) and the built-in GENCODE
annotations (``gencode``). ``HF_HUB_OFFLINE=1`` (or ``--offline``) stops every transfer."""
