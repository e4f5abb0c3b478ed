from kipoi.data import SampleIterator

from splicebert_plugin.scoring.kipoi_adapter import empty_batch, variant_samples


class SpliceBertVcfDataLoader(SampleIterator):
    def __init__(self, vcf_file, fasta_file, annotation_file, window=510, mode="variant"):
        self._width = int(window)
        self._samples = variant_samples(vcf_file, fasta_file, annotation_file, width=self._width, mode=mode)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._samples)

    def batch_iter(self, batch_size=32, **kwargs):
        # an empty VCF still yields one (empty) batch, so the output file gets its header
        empty = True
        for batch in super().batch_iter(batch_size=batch_size, **kwargs):
            empty = False
            yield batch
        if empty:
            yield empty_batch(self._width)
