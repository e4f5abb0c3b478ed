from kipoi.data import SampleIterator

from splicebert_plugin.kipoi_adapter import variant_samples


class SpliceBertVcfDataLoader(SampleIterator):
    def __init__(self, vcf_file, fasta_file, annotation_file, window=510, mode="variant"):
        self._samples = variant_samples(vcf_file, fasta_file, annotation_file, width=int(window), mode=mode)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._samples)
