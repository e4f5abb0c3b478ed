import numpy as np
import pytest
from transformers import AutoTokenizer

from splicebert_plugin import SpliceBertTokenizer, decode, encode, encode_batch
from splicebert_plugin.checkpoints.hub_folder import write_tokenizer_files
from splicebert_plugin.splicebert.tokenization import VOCAB, InvalidSequenceError, check_vocab_file

# ids fixed by the release: 0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP] 4 [MASK] 5 N 6 A 7 C 8 G 9 T
CASES = {
    "ACGT": [2, 6, 7, 8, 9, 3],
    "acgt": [2, 6, 7, 8, 9, 3],
    "AcGu": [2, 6, 7, 8, 9, 3],
    "UUu": [2, 9, 9, 9, 3],
    "NnRYSWKMBDHV": [2] + [5] * 12 + [3],
    "rysWKMbdhv": [2] + [5] * 10 + [3],
    "GATTACA": [2, 8, 6, 9, 9, 6, 7, 6, 3],
}


def test_vocabulary_matches_the_released_vocab_file():
    assert VOCAB == tuple((__import__("pathlib").Path(__file__).parent / "data/splicebert_original/SpliceBERT.510nt/vocab.txt").read_text().split())


@pytest.mark.parametrize("sequence,expected", CASES.items())
def test_vectorised_encoder_hand_checked_ids(sequence, expected):
    assert encode(sequence).tolist() == expected
    assert encode(sequence.encode()).tolist() == expected
    assert encode(sequence, add_special_tokens=False).tolist() == expected[1:-1]


@pytest.mark.parametrize("sequence,expected", CASES.items())
def test_fast_tokenizer_hand_checked_ids(sequence, expected):
    assert SpliceBertTokenizer()(sequence)["input_ids"] == expected


def test_never_unk_for_any_iupac_letter():
    letters = "ACGTUNRYSWKMBDHV"
    ids = encode(letters + letters.lower())
    assert 1 not in ids.tolist()
    assert 1 not in SpliceBertTokenizer()(letters + letters.lower())["input_ids"]


def test_invalid_character_error_names_it_and_its_position():
    with pytest.raises(InvalidSequenceError, match=r"'X' at index 3"):
        encode("ACGXT")
    with pytest.raises(InvalidSequenceError, match="index 2"):
        encode("AC GT")


def test_auto_tokenizer_from_written_files_equals_vectorised_encoder(tmp_path):
    write_tokenizer_files(tmp_path, max_nucleotides=510)
    auto = AutoTokenizer.from_pretrained(str(tmp_path))  # no custom code involved
    rng = np.random.default_rng(0)
    alphabet = np.array(list("ACGTUNRYacgtunry"))
    for length in (1, 7, 510):
        sequence = "".join(rng.choice(alphabet, size=length))
        assert auto(sequence)["input_ids"] == encode(sequence).tolist()
    assert auto.model_max_length == 512
    assert auto.mask_token_id == 4 and auto.pad_token_id == 0


def test_mask_token_in_text_and_padding():
    tok = SpliceBertTokenizer()
    assert tok("AC[MASK]G")["input_ids"] == [2, 6, 7, 4, 8, 3]
    batch = tok(["ACG", "A"], padding=True)
    assert batch["input_ids"] == [[2, 6, 7, 8, 3], [2, 6, 3, 0, 0]]
    assert batch["attention_mask"] == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]


def test_tokenizer_loaded_from_original_folder_accepts_plain_strings():
    from pathlib import Path

    folder = Path(__file__).parent / "data/splicebert_original/SpliceBERT.510nt"
    tok = SpliceBertTokenizer.from_pretrained(str(folder))
    assert tok("acgu")["input_ids"] == [2, 6, 7, 8, 9, 3]


def test_encode_batch_and_decode():
    batch = encode_batch(["ACG", "tgu"])
    assert batch.shape == (2, 5)
    assert decode(batch[1]) == "TGT"
    with pytest.raises(ValueError, match="equal-length"):
        encode_batch(["A", "AC"])


def test_check_vocab_file_rejects_other_vocabularies(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nA\nC\nG\nT\nN\n")
    with pytest.raises(ValueError, match="not SpliceBERT's vocabulary"):
        check_vocab_file(str(path))
