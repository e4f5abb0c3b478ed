"""GeneBERT pretraining (library part): motif database and scanning, regions and tracks, the
region corpus, samples of ten regions with span masking, and the pretraining recipe."""
