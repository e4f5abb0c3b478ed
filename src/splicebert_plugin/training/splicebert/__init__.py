"""SpliceBERT pretraining (library part): the token corpus, MLM masking, windows and batches,
and the two-stage pretraining recipe."""
