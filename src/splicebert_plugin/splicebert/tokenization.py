"""SpliceBERT's nucleotide vocabulary and tokenizers.

The vocabulary and its ids are fixed by the released checkpoints::

    0 [PAD]  1 [UNK]  2 [CLS]  3 [SEP]  4 [MASK]  5 N  6 A  7 C  8 G  9 T

A sequence becomes ``[CLS]`` + one token per nucleotide + ``[SEP]``. Lower case is the same
base (soft-masked repeats), ``U`` is ``T`` and every other IUPAC code is ``N``.

Two encoders share this table:

* :func:`encode` / :func:`encode_batch`, a vectorised byte -> id lookup for the hot paths
  (scoring, training); it rejects characters that are not nucleotides with an error naming
  them.
* :class:`SpliceBertTokenizer`, a ``transformers`` fast tokenizer built on the same table, and
  :func:`build_tokenizer_json`, its ``tokenizer.json``, which ``AutoTokenizer`` loads with no
  custom code.

How it differs from the original release: the original ``BertTokenizer`` needed
space-separated upper-case letters and silently turned anything else (``a``, ``U``, ``R``) into
``[UNK]``. Here a plain string in any case works and a nucleotide never becomes ``[UNK]``.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

import numpy as np
from ..errors import UserError

VOCAB: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "N", "A", "C", "G", "T")
TOKEN_TO_ID: dict[str, int] = {token: i for i, token in enumerate(VOCAB)}
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID, N_ID, A_ID, C_ID, G_ID, T_ID = range(10)
#: ids of A, C, G, T in that order: the four logits the zero-shot scores use.
NUCLEOTIDE_IDS: tuple[int, int, int, int] = (A_ID, C_ID, G_ID, T_ID)
SPECIAL_TOKENS: dict[str, str] = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}
#: IUPAC ambiguity codes (and N itself), all read as N.
IUPAC_AMBIGUOUS = "RYSWKMBDHVN"

_INVALID = 255


def _byte_table() -> np.ndarray:
    table = np.full(256, _INVALID, dtype=np.uint8)
    for letter, token_id in (("A", A_ID), ("C", C_ID), ("G", G_ID), ("T", T_ID), ("U", T_ID)):
        table[ord(letter)] = token_id
        table[ord(letter.lower())] = token_id
    for letter in IUPAC_AMBIGUOUS:
        table[ord(letter)] = N_ID
        table[ord(letter.lower())] = N_ID
    return table


#: byte value -> token id (255 marks a byte that is not a nucleotide code).
BYTE_TO_ID: np.ndarray = _byte_table()
BYTE_TO_ID.setflags(write=False)


class InvalidSequenceError(UserError):
    """A sequence holds a character that is not a nucleotide (IUPAC) code."""


def encode(sequence: str | bytes, *, add_special_tokens: bool = True) -> np.ndarray:
    """Token ids of one nucleotide sequence.

    Parameters
    ----------
    sequence
        Nucleotides, any case, no separators; ``U`` reads as ``T`` and IUPAC ambiguity codes as
        ``N``.
    add_special_tokens
        Wrap the ids in ``[CLS]`` ... ``[SEP]`` (default), as every SpliceBERT input is.

    Returns
    -------
    numpy.ndarray of int64, shape ``(len(sequence) + 2,)`` (or ``(len(sequence),)``).

    Raises
    ------
    InvalidSequenceError
        The sequence holds a character that is not a nucleotide code; the message names it and
        its position.
    """
    raw = sequence.encode("ascii", errors="replace") if isinstance(sequence, str) else bytes(sequence)
    ids = BYTE_TO_ID[np.frombuffer(raw, dtype=np.uint8)]
    bad = np.flatnonzero(ids == _INVALID)
    if bad.size:
        first = int(bad[0])
        char = sequence[first] if isinstance(sequence, str) else chr(raw[first])
        raise InvalidSequenceError(
            f"sequence has {bad.size} character(s) that are not nucleotide codes, the first "
            f"{char!r} at index {first}; expected A, C, G, T, U or an IUPAC code "
            f"({IUPAC_AMBIGUOUS}), any case, without spaces"
        )
    ids = ids.astype(np.int64)
    if not add_special_tokens:
        return ids
    out = np.empty(ids.size + 2, dtype=np.int64)
    out[0], out[-1] = CLS_ID, SEP_ID
    out[1:-1] = ids
    return out


def encode_batch(sequences: Sequence[str | bytes], *, add_special_tokens: bool = True) -> np.ndarray:
    """Token ids of equal-length sequences, shape ``(len(sequences), length [+ 2])``.

    Equal lengths are required (scoring windows always are); use :class:`SpliceBertTokenizer`
    with ``padding=True`` for ragged batches.
    """
    if len(sequences) == 0:
        raise UserError("encode_batch needs at least one sequence")
    lengths = {len(s) for s in sequences}
    if len(lengths) != 1:
        raise UserError(f"encode_batch needs equal-length sequences, got lengths {sorted(lengths)}")
    return np.stack([encode(s, add_special_tokens=add_special_tokens) for s in sequences])


def decode(ids: Iterable[int], *, skip_special_tokens: bool = True) -> str:
    """Letters of token ids (``[CLS]``/``[SEP]``/``[PAD]`` dropped unless asked to keep)."""
    letters = []
    for token_id in ids:
        token = VOCAB[int(token_id)]
        if len(token) > 1 and skip_special_tokens:
            continue
        letters.append(token)
    return "".join(letters)


def build_tokenizer_json() -> str:
    """The ``tokenizer.json`` of SpliceBERT's character-level fast tokenizer.

    Normalisation: whitespace removed, ``U``/``u`` -> ``T``, lower case -> upper case for
    nucleotide and IUPAC letters, IUPAC ambiguity codes -> ``N``. Each remaining character is
    one token; a character outside the table becomes ``[UNK]`` (it is not a nucleotide).
    Special tokens written in the text (``[MASK]``) are matched before normalisation.
    """
    normalizers = [{"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": ""}]
    for letter in "acgt":
        normalizers.append({"type": "Replace", "pattern": {"String": letter}, "content": letter.upper()})
    normalizers.append({"type": "Replace", "pattern": {"Regex": "[Uu]"}, "content": "T"})
    normalizers.append(
        {
            "type": "Replace",
            "pattern": {"Regex": f"[{IUPAC_AMBIGUOUS}{IUPAC_AMBIGUOUS.lower()}]"},
            "content": "N",
        }
    )
    added = [
        {
            "id": i,
            "content": token,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, token in enumerate(VOCAB[:5])
    ]
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "."}, "behavior": "Isolated", "invert": False},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 1}},
                {"SpecialToken": {"id": "[SEP]", "type_id": 1}},
            ],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [CLS_ID], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [SEP_ID], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "Fuse"},
        "model": {"type": "WordLevel", "vocab": dict(TOKEN_TO_ID), "unk_token": "[UNK]"},
    }
    return json.dumps(spec, indent=2)


def tokenizer_config(model_max_length: int) -> dict:
    """``tokenizer_config.json`` contents for a Hub folder (loads with no custom code)."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model_max_length,
        "padding_side": "right",
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        **SPECIAL_TOKENS,
    }


def _tokenizers_backend():
    from tokenizers import Tokenizer

    return Tokenizer.from_str(build_tokenizer_json())


try:  # transformers >= 5 calls the fast tokenizer base class TokenizersBackend
    from transformers import PreTrainedTokenizerFast as _FastBase
except ImportError:  # pragma: no cover - transformers always provides one of them
    from transformers import TokenizersBackend as _FastBase


class SpliceBertTokenizer(_FastBase):
    """Character-level SpliceBERT tokenizer (a ``transformers`` fast tokenizer).

    Always built from the fixed vocabulary, so it behaves the same whether it is loaded from a
    converted folder or from an original-release folder (whose ``tokenizer.json`` needs
    space-separated letters). A ``vocab.txt`` found in the folder is checked against the table.

    Examples
    --------
    >>> tok = SpliceBertTokenizer()
    >>> tok("acgUN")["input_ids"]
    [2, 6, 7, 8, 9, 5, 3]
    """

    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file: str | None = None, **kwargs):
        if vocab_file is not None:
            check_vocab_file(vocab_file)
        kwargs.pop("tokenizer_file", None)
        kwargs.pop("tokenizer_object", None)
        for key, value in SPECIAL_TOKENS.items():
            kwargs.setdefault(key, value)
        kwargs.setdefault("model_max_length", 1024 + 2)
        # the original tokenizer_config.json asks for BertTokenizer behaviour we do not have
        for key in ("do_lower_case", "do_basic_tokenize", "never_split", "tokenize_chinese_chars", "strip_accents"):
            kwargs.pop(key, None)
        super().__init__(tokenizer_object=_tokenizers_backend(), **kwargs)

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str]:
        import os

        name = (filename_prefix + "-" if filename_prefix else "") + "vocab.txt"
        path = os.path.join(save_directory, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(VOCAB) + "\n")
        return (path,)


def check_vocab_file(path: str) -> None:
    """Raise ``ValueError`` if ``vocab.txt`` at ``path`` is not SpliceBERT's 10-token table."""
    with open(path, encoding="utf-8") as handle:
        tokens = [line.rstrip("\n") for line in handle if line.strip()]
    if tuple(tokens) != VOCAB:
        raise UserError(
            f"{path} is not SpliceBERT's vocabulary: expected {list(VOCAB)} in that order, "
            f"found {tokens[:12]}{' ...' if len(tokens) > 12 else ''}"
        )
