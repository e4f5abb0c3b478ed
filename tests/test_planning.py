"""The scoring pipeline's steps on their own: plan (no model), score_pairs (arrays), assemble."""

import dataclasses

import numpy as np
import pytest

from splicebert_plugin.io.annotation import read_annotation
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.io.vcf import VcfReader, parse_record
from splicebert_plugin.scoring.plan import Pair, Planner, RecordPlan, Skip
from splicebert_plugin.scoring.passes import PairScores, assemble

from .conftest import FASTA, GENES, VCF, read_fasta_text, revcomp


class CountingGenome:
    """A Genome that counts its reads."""

    def __init__(self, genome):
        self._genome, self.reads = genome, 0
        self.path, self.lengths, self.contigs = genome.path, genome.lengths, genome.contigs

    def fetch(self, contig, start, end):
        self.reads += 1
        return self._genome.fetch(contig, start, end)


@pytest.fixture(scope="module")
def planner():
    with Genome(FASTA) as genome:
        yield Planner(CountingGenome(genome), read_annotation(GENES), width=510)


def record(line_id: str):
    return next(r for r in VcfReader(str(VCF)) if r.id == line_id)


def test_plan_reads_the_genome_once_per_record(planner):
    for r in VcfReader(str(VCF)):
        before = planner.genome.reads
        planner.plan(r)
        assert planner.genome.reads - before <= 1, r.id


def test_plan_of_a_multiallelic_record_with_independently_built_windows(planner):
    plan = planner.plan(record("multiallelic_CDC34"))
    assert plan.reason is None and [type(i) for i in plan.items] == [Pair, Pair]
    genome = read_fasta_text(FASTA)
    for pair in plan.items:
        assert pair.gene == "CDC34" and pair.strand == "+" and pair.v == 255
        p0 = 537050 - 1
        assert pair.wt == genome[p0 - 255 : p0 + 255]
        assert pair.mt == pair.wt[:255] + pair.allele + pair.wt[256:]
        assert pair.wt_key == ("chr19", p0 - 255, "+") and pair.window_start == p0 - 255
    assert [p.allele for p in plan.items] == list(record("multiallelic_CDC34").alts)


def test_plan_of_a_minus_strand_deletion(planner):
    plan = planner.plan(record("deletion_THEG"))
    (pair,) = plan.items
    genome = read_fasta_text(FASTA)
    assert pair.strand == "-" and pair.ref_len == 2 and pair.alt_len == 0
    # the deletion removes genomic [371249, 371251) (0-based); oriented, the window ends 255 nt
    # after the event, and the MT window pulls 2 more bases from beyond the window's 3' end
    end = 371249 + 2 + 255
    assert pair.wt == revcomp(genome[end - 510 : end])
    assert pair.mt == revcomp(genome[end - 512 : 371249] + genome[371251:end])
    assert pair.wt[pair.v : pair.v + 2] == pair.ref == revcomp(genome[371249:371251])


def test_plan_reasons_and_skips(planner):
    assert planner.plan(record("wrong_ref")) == RecordPlan(record("wrong_ref"), reason="REF_MISMATCH")
    assert planner.plan(record("other_contig")).reason == "CONTIG_NOT_IN_FASTA"
    assert planner.plan(record("intergenic")).reason == "NO_OVERLAPPING_GENE"
    (skip,) = planner.plan(record("symbolic")).items
    assert skip == Skip("<DEL>", "MIER2", "-", "UNSUPPORTED_ALLELE")
    genome = read_fasta_text(FASTA)
    long_deletion = parse_record(f"19\t320000\tlong\t{genome[319999:320200]}\t{genome[319999]}\t.\t.\t.", 1, "t")
    assert planner.plan(long_deletion).items[0].reason == "EVENT_TOO_LONG"


def test_assemble_joins_scores_in_plan_order_and_results_are_frozen(planner):
    plan = planner.plan(record("symbolic"))
    mixed = RecordPlan(plan.record, (plan.items[0],) + planner.plan(record("deep_intronic_MIER2")).items)
    scores = PairScores(("KL_CONTEXT", "MAX_KL"), np.array([[-10.0, 0.5]]), np.array([True]))
    result = assemble(mixed, scores)
    skipped, scored = result.alleles
    assert skipped.reason == "UNSUPPORTED_ALLELE" and skipped.scores == {}
    assert scored.scores == {"KL_CONTEXT": -10.0, "MAX_KL": 0.5} and scored.notes == ("PARTIAL_CONTEXT",)
    assert scored.variant_index == 255
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.alleles[1].reason = "x"
    assert assemble(planner.plan(record("wrong_ref")), scores).reason == "REF_MISMATCH"
