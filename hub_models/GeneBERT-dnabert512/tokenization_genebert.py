"""GeneBERT's k-mer vocabulary and tokenizers (DNABERT's conventions).

Hub code: copied into ``hub_models/GeneBERT-*``; imports only numpy, ``tokenizers`` and
``transformers``.

Vocabulary (DNABERT's order, which DNABERT checkpoints assume): ``[PAD] [UNK] [CLS] [SEP]
[MASK]`` (ids 0-4), then every k-mer in ``itertools.product("ATCG", repeat=k)`` order (``AAA``,
``AAT``, ``AAC``, ``AAG``, ``ATA``, ...): 69 tokens for k = 3, 4,101 for k = 6. A sequence of
``n`` nucleotides gives ``n - k + 1`` overlapping k-mers; a k-mer holding ``N`` or another
IUPAC code is ``[UNK]``; lower case and ``U`` read as the same base.
"""

import itertools
import json

import numpy as np

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(5)
ALPHABET = "ATCG"  # DNABERT's order: a k-mer's index is its base-4 number in this alphabet


def kmer_vocab(k: int) -> list:
    """The vocabulary of k-mers, specials first, in DNABERT's order."""
    if not isinstance(k, int) or not 1 <= k <= 8:
        raise ValueError(f"k must be an integer from 1 to 8, got {k!r}")
    return list(SPECIAL_TOKENS) + ["".join(p) for p in itertools.product(ALPHABET, repeat=k)]


def _code_table() -> np.ndarray:
    table = np.full(256, -1, dtype=np.int64)
    for code, letters in enumerate(("Aa", "TtUu", "Cc", "Gg")):
        for letter in letters:
            table[ord(letter)] = code
    return table


_CODES = _code_table()
_IUPAC = set("ACGTURYSWKMBDHVNacgturyswkmbdhvn")


def kmer_encode(sequence, k: int) -> np.ndarray:
    """Token ids of the overlapping k-mers of ``sequence`` (no special tokens), vectorised.

    Returns an int64 array of length ``max(0, len(sequence) - k + 1)``. Raises ``ValueError``
    naming the first character that is not a nucleotide (IUPAC) code.
    """
    if isinstance(sequence, str):
        raw = sequence.encode("ascii", errors="replace")
    else:
        raw = bytes(sequence)
    codes = _CODES[np.frombuffer(raw, dtype=np.uint8)]
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        invalid = [i for i in bad.tolist() if chr(raw[i]) not in _IUPAC]
        if invalid:
            raise ValueError(f"sequence holds {chr(raw[invalid[0]])!r} at index {invalid[0]}, not a nucleotide code")
    n = len(codes) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(codes, k)
    index = (np.where(windows < 0, 0, windows) * (4 ** np.arange(k - 1, -1, -1))).sum(axis=1)
    return np.where((windows < 0).any(axis=1), UNK_ID, index + len(SPECIAL_TOKENS)).astype(np.int64)


def kmer_decode(ids, k: int) -> str:
    """The nucleotide sequence spelled by consecutive k-mer ids (specials skipped; ``[UNK]`` = N)."""
    bases = []
    kmers = [int(i) for i in ids if int(i) not in (PAD_ID, CLS_ID, SEP_ID, MASK_ID)]
    for position, token in enumerate(kmers):
        if token == UNK_ID:
            text = "N" * k
        else:
            index, text = token - len(SPECIAL_TOKENS), ""
            for _ in range(k):
                index, code = divmod(index, 4)
                text = ALPHABET[code] + text
        bases.append(text if position == 0 else text[-1])
    return "".join(bases)


def kmerize(sequence: str, k: int) -> str:
    """``"AGTCAG"`` -> ``"AGT GTC TCA CAG"`` (k = 3): DNABERT's text input; upper case, U -> T."""
    text = sequence.strip().upper().replace("U", "T")
    return " ".join(text[i : i + k] for i in range(len(text) - k + 1))


def build_tokenizer_json(k: int) -> str:
    """``tokenizer.json`` of a WordLevel tokenizer over space-separated k-mers (no custom code):
    ``[CLS] A [SEP]`` and pairs ``[CLS] A [SEP] B [SEP]`` with token types 0 / 1."""
    vocab = kmer_vocab(k)
    added = [{"id": i, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, token in enumerate(SPECIAL_TOKENS)]
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [  # any case, U = T
            {"type": "Replace", "pattern": {"String": letter}, "content": upper}
            for letter, upper in (("a", "A"), ("c", "C"), ("g", "G"), ("t", "T"), ("u", "T"), ("U", "T"))]},
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [CLS_ID], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [SEP_ID], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False},
        "model": {"type": "WordLevel", "vocab": {token: i for i, token in enumerate(vocab)}, "unk_token": "[UNK]"},
    }
    return json.dumps(spec, indent=2)


def tokenizer_config(k: int, model_max_length: int) -> dict:
    """``tokenizer_config.json`` of a Hub folder: the class k-merises raw strings (with the
    package or ``trust_remote_code``); without custom code, pass space-separated k-mers."""
    return {
        "tokenizer_class": "GeneBertTokenizer",
        "auto_map": {"AutoTokenizer": [None, "tokenization_genebert.GeneBertTokenizer"]},
        "kmer": k,
        "model_max_length": model_max_length,
        "padding_side": "right",
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "mask_token": "[MASK]",
    }


try:  # transformers >= 5 calls the fast tokenizer base class TokenizersBackend
    from transformers import PreTrainedTokenizerFast as _FastBase
except ImportError:  # pragma: no cover
    from transformers import TokenizersBackend as _FastBase


class GeneBertTokenizer(_FastBase):
    """k-mer tokenizer: raw DNA strings are cut into overlapping k-mers, then tokenized.

    >>> tok = GeneBertTokenizer(kmer=3)
    >>> tok("AGTCAG")["input_ids"]            # [CLS] AGT GTC TCA CAG [SEP]
    [2, 18, 59, 29, 40, 3]

    Text that already holds spaces is taken as k-mers (DNABERT's input convention).
    """

    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(self, vocab_file=None, kmer: int = 6, **kwargs):
        from tokenizers import Tokenizer

        for key in ("tokenizer_file", "tokenizer_object"):
            kwargs.pop(key, None)
        self.kmer = int(kmer)
        for key, token in zip(("pad_token", "unk_token", "cls_token", "sep_token", "mask_token"), SPECIAL_TOKENS):
            kwargs.setdefault(key, token)
        kwargs.setdefault("model_max_length", 512)
        super().__init__(tokenizer_object=Tokenizer.from_str(build_tokenizer_json(self.kmer)), **kwargs)

    def _kmers(self, text):
        if text is None or not isinstance(text, str) or " " in text.strip() or text in SPECIAL_TOKENS:
            return text
        return kmerize(text, self.kmer)

    def _prepare(self, text):
        if isinstance(text, (list, tuple)):
            return [self._kmers(t) for t in text]
        return self._kmers(text)

    def __call__(self, text=None, text_pair=None, *args, **kwargs):
        return super().__call__(self._prepare(text), self._prepare(text_pair), *args, **kwargs)

    def encode(self, text, text_pair=None, *args, **kwargs):
        return super().encode(self._prepare(text), self._prepare(text_pair), *args, **kwargs)

    def tokenize(self, text, *args, **kwargs):
        return super().tokenize(self._kmers(text), *args, **kwargs)

    def save_vocabulary(self, save_directory: str, filename_prefix=None):
        import os

        name = (filename_prefix + "-" if filename_prefix else "") + "vocab.txt"
        path = os.path.join(save_directory, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(kmer_vocab(self.kmer)) + "\n")
        return (path,)
