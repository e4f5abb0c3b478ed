"""Training (library part): corpus building, MLM masking, data, the Accelerate pretraining loop.

Inference code never imports this package; ``training/`` at the repository root holds the
launchable recipes (YAML configs, Accelerate configs, thin entry points).
"""
