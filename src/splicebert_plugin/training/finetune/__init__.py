"""Fine-tuning with cross-validation, for both model families: ``engine`` (configs, folds, the
loop, predictions and summaries) and the tasks' data (``branchpoints``, ``splice_sites``,
``promoters``) and entry points (``engine``: branchpoints, splice sites; ``promoter_tasks``:
promoters, TFBS)."""
