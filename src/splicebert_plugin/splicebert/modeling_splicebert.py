"""SpliceBERT models: a BERT encoder over single nucleotides, with masked-LM, token- and
sequence-classification heads.

Hub code: this file is copied unchanged into every ``hub_models/`` folder and runs there with
``trust_remote_code=True``; it imports only ``torch``, ``transformers`` and the sibling
configuration file.

Parameter names are BERT's (``bert.encoder.layer.0.attention.self.query.weight``, ...), so the
released ``BertForMaskedLM`` checkpoints load without renaming.

How it differs from ``transformers.BertModel`` (the outputs are the same to float rounding):

* always bidirectional (``is_causal = False``), no decoder / cross-attention / KV cache;
* the query, key and value projections run as one matrix product;
* the attention kernel is looked up in transformers' ``AttentionInterface`` registry (SDPA, flash
  attention, or a function you register) or is :func:`eager_attention_forward`; keyword
  arguments of ``forward`` reach it;
* with no padding the attention kernels get no mask at all (SDPA then uses its fastest path);
* ``output_attentions=True`` always returns real maps: that call runs eager attention,
  whatever the model's default backend is;
* no pooler except in :class:`SpliceBertForSequenceClassification` (the release has none);
* inputs longer than the model's positions raise a clear ``ValueError``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_outputs import (
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.utils import can_return_tuple

from .configuration_splicebert import SpliceBertConfig

_ATTENTION_BACKENDS = ("eager", "sdpa", "flash_attention_2")
_UNSUPPORTED_BACKENDS = ("flex_attention",)


class SpliceBertEmbeddings(nn.Module):
    """Word + token-type + learned absolute position embeddings, LayerNorm, dropout."""

    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        embeddings = self.word_embeddings(input_ids) if inputs_embeds is None else inputs_embeds
        length = embeddings.shape[1]
        if token_type_ids is None:
            embeddings = embeddings + self.token_type_embeddings.weight[0]
        else:
            embeddings = embeddings + self.token_type_embeddings(token_type_ids)
        if position_ids is None:
            embeddings = embeddings + self.position_embeddings.weight[:length]
        else:
            embeddings = embeddings + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings))


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's eager attention, in the signature of transformers' attention registry.

    ``query``/``key``/``value``: ``(B, heads, L, head_dim)``; ``attention_mask``: additive
    ``(B, 1, 1, L)`` or None. Returns the context ``(B, L, heads, head_dim)`` and the attention
    probabilities ``(B, heads, L, L)`` (before dropout).
    """
    scores = torch.matmul(query, key.transpose(-1, -2)) * scaling
    if attention_mask is not None:
        scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)
    context = torch.matmul(F.dropout(probs, p=dropout, training=module.training), value)
    return context.transpose(1, 2).contiguous(), probs


class SpliceBertSelfAttention(nn.Module):
    """Multi-head self-attention; the kernel comes from transformers' attention registry
    (``sdpa``, ``flash_attention_2``, ...) or is :func:`eager_attention_forward`."""

    def __init__(self, config: SpliceBertConfig, layer_idx: int | None = None):
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.scaling = self.head_dim**-0.5
        self.is_causal = False
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(
        self, hidden_states: torch.Tensor, masks: "_AttentionMasks", output_attentions: bool = False, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch, length, hidden = hidden_states.shape
        weight = torch.cat((self.query.weight, self.key.weight, self.value.weight))
        bias = torch.cat((self.query.bias, self.key.bias, self.value.bias))
        # (B, L, 3 * hidden) -> (3, B, heads, L, head_dim)
        qkv = F.linear(hidden_states, weight, bias).view(batch, length, 3, self.num_heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        dropout = self.dropout.p if self.training else 0.0
        backend = "eager" if output_attentions else self.config._attn_implementation  # maps need eager
        attention = eager_attention_forward if backend == "eager" else ALL_ATTENTION_FUNCTIONS[backend]
        context, probs = attention(
            self, query, key, value, masks.for_backend(backend), dropout=dropout, scaling=self.scaling,
            is_causal=False, **kwargs,
        )  # context: (B, L, heads, head_dim)
        return context.reshape(batch, length, hidden), probs


class SpliceBertSelfOutput(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + residual)


class SpliceBertAttention(nn.Module):
    def __init__(self, config: SpliceBertConfig, layer_idx: int | None = None):
        super().__init__()
        self.self = SpliceBertSelfAttention(config, layer_idx=layer_idx)
        self.output = SpliceBertSelfOutput(config)

    def forward(self, hidden_states, masks, output_attentions=False, **kwargs):
        context, probs = self.self(hidden_states, masks, output_attentions, **kwargs)
        return self.output(context, hidden_states), probs


class SpliceBertIntermediate(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = ACT2FN[config.hidden_act]

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class SpliceBertOutput(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + residual)


class SpliceBertLayer(nn.Module):
    """One post-LayerNorm transformer block: attention, then the feed-forward network."""

    def __init__(self, config: SpliceBertConfig, layer_idx: int | None = None):
        super().__init__()
        self.attention = SpliceBertAttention(config, layer_idx=layer_idx)
        self.intermediate = SpliceBertIntermediate(config)
        self.output = SpliceBertOutput(config)

    def forward(self, hidden_states, masks, output_attentions=False, **kwargs):
        attention_output, probs = self.attention(hidden_states, masks, output_attentions, **kwargs)
        layer_output = self.output(self.intermediate(attention_output), attention_output)
        return layer_output, probs


class _AttentionMasks:
    """A padding mask in the form each attention kernel wants; all ``None`` when nothing is padded.

    padding: (B, L) 1 = token, 0 = padding (flash attention unpads with it);
    boolean: (B, 1, 1, L) True = attend (SDPA); additive: (B, 1, 1, L) 0 or dtype-min (eager).
    """

    def __init__(self, padding: torch.Tensor | None, dtype: torch.dtype):
        if padding is not None and bool(padding.all()):
            padding = None
        self.padding = padding
        self.boolean = None if padding is None else padding.bool()[:, None, None, :]
        self.additive = None
        if padding is not None:
            self.additive = (~self.boolean).to(dtype) * torch.finfo(dtype).min

    def for_backend(self, backend: str) -> torch.Tensor | None:
        if backend == "eager":
            return self.additive
        if backend == "sdpa":
            return self.boolean
        return self.padding


class SpliceBertEncoder(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList(SpliceBertLayer(config, layer_idx=i) for i in range(config.num_hidden_layers))
        self.gradient_checkpointing = False

    def forward(self, hidden_states, masks, output_attentions=False, output_hidden_states=False, **kwargs):
        all_hidden = (hidden_states,) if output_hidden_states else None
        all_attentions = () if output_attentions else None
        for layer in self.layer:
            if self.gradient_checkpointing and self.training:
                hidden_states, probs = self._gradient_checkpointing_func(
                    layer.__call__, hidden_states, masks, output_attentions, **kwargs
                )
            else:
                hidden_states, probs = layer(hidden_states, masks, output_attentions, **kwargs)
            if output_hidden_states:
                all_hidden = all_hidden + (hidden_states,)
            if output_attentions:
                all_attentions = all_attentions + (probs,)
        return hidden_states, all_hidden, all_attentions


class SpliceBertPooler(nn.Module):
    """``[CLS]`` state -> Linear -> tanh (BERT's pooler; only the sequence classifier has one)."""

    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


class SpliceBertPredictionHeadTransform(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.transform_act_fn = ACT2FN[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.transform_act_fn(self.dense(hidden_states)))


class SpliceBertLMPredictionHead(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.transform = SpliceBertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=True)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden_states))


class SpliceBertOnlyMLMHead(nn.Module):
    def __init__(self, config: SpliceBertConfig):
        super().__init__()
        self.predictions = SpliceBertLMPredictionHead(config)

    def forward(self, sequence_output: torch.Tensor) -> torch.Tensor:
        return self.predictions(sequence_output)


class SpliceBertPreTrainedModel(PreTrainedModel):
    config_class = SpliceBertConfig
    base_model_prefix = "bert"
    supports_gradient_checkpointing = True
    _no_split_modules = ["SpliceBertEmbeddings", "SpliceBertLayer"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True
    # checkpoints saved by transformers < 4.31 store BERT's position_ids buffer
    _keys_to_ignore_on_load_unexpected = [r"position_ids", r"token_type_ids"]

    @torch.no_grad()
    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None and not getattr(module.weight, "_is_hf_initialized", False):
                init.zeros_(module.weight[module.padding_idx])
        elif isinstance(module, nn.LayerNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, SpliceBertLMPredictionHead):
            init.zeros_(module.bias)



def _check_backend(config: SpliceBertConfig, device: torch.device) -> None:
    """Eager, SDPA, flash attention 2/3/4, or any function registered with transformers'
    ``AttentionInterface`` under a new name; flex and paged attention need masks this model does
    not build."""
    backend = config._attn_implementation
    if backend != "eager" and (backend not in ALL_ATTENTION_FUNCTIONS or backend in _UNSUPPORTED_BACKENDS
                               or backend.startswith("paged")):
        raise ValueError(
            f"attention backend {backend!r} is not supported by SpliceBERT; choose one of {_ATTENTION_BACKENDS} "
            "or register a function with transformers.AttentionInterface (attn_implementation=...)"
        )
    if backend.startswith("flash_attention") and device.type != "cuda":
        raise ValueError(
            f"attn_implementation={backend!r} needs a CUDA GPU, but the input is on {device}; "
            "use 'sdpa' (the default) or 'eager' on this device"
        )


class SpliceBertModel(SpliceBertPreTrainedModel):
    """The bare SpliceBERT encoder: per-nucleotide hidden states.

    ``last_hidden_state`` has shape ``(batch, length, hidden_size)`` with ``length`` counting
    ``[CLS]`` and ``[SEP]``; ``hidden_states`` (on request) holds ``num_hidden_layers + 1``
    tensors (embedding output first); ``attentions`` (on request) holds one
    ``(batch, heads, length, length)`` map per layer, computed with eager attention.
    """

    def __init__(self, config: SpliceBertConfig, add_pooling_layer: bool = False):
        super().__init__(config)
        self.embeddings = SpliceBertEmbeddings(config)
        self.encoder = SpliceBertEncoder(config)
        self.pooler = SpliceBertPooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self):
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value):
        self.embeddings.word_embeddings = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPooling:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        reference = input_ids if input_ids is not None else inputs_embeds
        if reference.dim() != (2 if input_ids is not None else 3):
            raise ValueError(
                f"input_ids must have shape (batch, length), got {tuple(reference.shape)}"
                if input_ids is not None
                else f"inputs_embeds must have shape (batch, length, hidden), got {tuple(reference.shape)}"
            )
        batch, length = reference.shape[:2]
        if length > self.config.max_position_embeddings:
            raise ValueError(
                f"input of {length} tokens is longer than this model's {self.config.max_position_embeddings} "
                f"positions ({self.config.max_position_embeddings - 2} nt + [CLS] + [SEP]); "
                "split the sequence into shorter windows"
            )
        if attention_mask is not None and tuple(attention_mask.shape) != (batch, length):
            raise ValueError(
                f"attention_mask must have shape (batch, length) = {(batch, length)}, got {tuple(attention_mask.shape)}"
            )
        _check_backend(self.config, reference.device)
        if output_attentions is None:
            output_attentions = self.config.output_attentions
        if output_hidden_states is None:
            output_hidden_states = self.config.output_hidden_states

        embedding_output = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)
        masks = _AttentionMasks(attention_mask, embedding_output.dtype)
        sequence_output, hidden_states, attentions = self.encoder(
            embedding_output, masks, bool(output_attentions), bool(output_hidden_states), **kwargs
        )
        pooled = self.pooler(sequence_output) if self.pooler is not None else None
        return BaseModelOutputWithPooling(
            last_hidden_state=sequence_output,
            pooler_output=pooled,
            hidden_states=hidden_states,
            attentions=attentions,
        )


class SpliceBertForMaskedLM(SpliceBertPreTrainedModel):
    """SpliceBERT with its masked-language-model head (the released checkpoints' class).

    ``logits`` has shape ``(batch, length, vocab_size=10)``; with ``labels`` (-100 = not
    scored) the loss is the mean cross-entropy over labelled positions.
    """

    _tied_weights_keys = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",
    }

    def __init__(self, config: SpliceBertConfig):
        super().__init__(config)
        self.bert = SpliceBertModel(config)
        self.cls = SpliceBertOnlyMLMHead(config)
        self.post_init()

    def get_output_embeddings(self):
        return self.cls.predictions.decoder

    def set_output_embeddings(self, new_embeddings):
        self.cls.predictions.decoder = new_embeddings
        self.cls.predictions.bias = new_embeddings.bias

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> MaskedLMOutput | tuple:
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        logits = self.cls(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.config.vocab_size), labels.view(-1).to(logits.device))
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class SpliceBertForTokenClassification(SpliceBertPreTrainedModel):
    """Per-nucleotide classifier (the branchpoint head): dropout + one linear layer per token.

    ``logits``: ``(batch, length, num_labels)``; ``labels``: ``(batch, length)`` with -100 at
    ignored positions (``[CLS]``, ``[SEP]``, padding, low-confidence sites); cross-entropy loss.
    """

    def __init__(self, config: SpliceBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = SpliceBertModel(config)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> TokenClassifierOutput | tuple:
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).to(logits.device))
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class SpliceBertForSequenceClassification(SpliceBertPreTrainedModel):
    """Whole-sequence classifier (the splice-site head).

    ``[CLS]`` state -> Linear(hidden, hidden) + tanh (``bert.pooler``) -> dropout ->
    Linear(hidden, num_labels) (``classifier``): parameter-compatible with BERT's
    ``BertForSequenceClassification``.

    Loss by ``config.problem_type``: ``"single_label_classification"`` (cross-entropy, integer
    labels), ``"multi_label_classification"`` (BCE with logits, float labels), ``"regression"``
    (MSE). When unset: ``num_labels == 1`` means one binary label scored with BCE (the paper's
    splice-site head; BERT would regress with MSE here), integer labels with
    ``num_labels > 1`` mean cross-entropy, float labels BCE.
    """

    def __init__(self, config: SpliceBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = SpliceBertModel(config, add_pooling_layer=True)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = labels.to(logits.device)
        problem = self.config.problem_type
        if problem is None:
            if self.num_labels == 1 or labels.is_floating_point():
                problem = "multi_label_classification"
            else:
                problem = "single_label_classification"
        if problem == "regression":
            return F.mse_loss(logits.squeeze(-1) if self.num_labels == 1 else logits, labels.to(logits.dtype))
        if problem == "single_label_classification":
            return F.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1).long())
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype).view_as(logits))

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            **kwargs,
        )
        logits = self.classifier(self.dropout(outputs.pooler_output))
        loss = self._loss(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


__all__ = [
    "SpliceBertPreTrainedModel",
    "SpliceBertModel",
    "SpliceBertForMaskedLM",
    "SpliceBertForTokenClassification",
    "SpliceBertForSequenceClassification",
]
