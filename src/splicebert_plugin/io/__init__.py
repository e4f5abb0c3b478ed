"""Readers and writers at the edge: genome FASTA, gene annotation, VCF. Contig names reconciled here."""
