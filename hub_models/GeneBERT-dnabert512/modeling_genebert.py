"""GeneBERT models: a k-mer BERT and a Swin region encoder tied by sequence-region matching.

Hub code: copied unchanged into ``hub_models/GeneBERT-*``; imports only torch, transformers and
the sibling configuration.

Parameter names: ``bert.*`` (transformers' ``BertModel`` without pooler: DNABERT-style
``BertForMaskedLM`` weights load into it by name; ``base_model_prefix``), ``cls.*`` (BERT's heads
where a model has them), ``region_encoder.*`` (transformers' ``SwinModel``), ``seq_projection`` /
``region_projection`` and ``logit_scale`` (the matching space). Each model carries only what its
forward uses: :class:`GeneBertModel` and :class:`GeneBertForPreTraining` both encoders and the
matching space; the masked-LM and token-classification heads the k-mer encoder alone; the
sequence classifier the k-mer encoder, plus the Swin only with ``fuse_regions``. Loading a
pretraining folder into a head skips the parts it does not carry (no warning); under DDP no
parameter goes without a gradient.

How it differs from the paper (each choice documented in the model card):

- the paper's Eq. (1) is printed with both factors of the denominator indexed by ``j``, which
  makes it ``log b`` with zero gradient; ``srm_loss="clip"`` (symmetric InfoNCE, default) is what
  its prose describes and ``"eq1"`` is the formula with the index fixed and the exponentials
  that make it a log-probability;
- pooling of the sequence embedding, the projections and the learnt temperature are ours;
- pretraining runs one forward pass on the masked input for all three losses [ours].
"""

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertConfig, PreTrainedModel
from transformers.modeling_outputs import ModelOutput, SequenceClassifierOutput, TokenClassifierOutput
from transformers.utils import can_return_tuple
from transformers.models.bert.modeling_bert import (
    BertEmbeddings,
    BertLMPredictionHead,
    BertModel,
    BertOnlyMLMHead,
    BertPreTrainingHeads,
)

from .configuration_genebert import GeneBertConfig

_MAX_LOGIT_SCALE = math.log(100.0)


def srm_loss(similarity: torch.Tensor, temperature=1.0, kind: str = "clip") -> torch.Tensor:
    """Sequence-region matching loss of a ``b x b`` matrix of cosine similarities.

    Row ``i`` is sequence ``i``, column ``j`` region ``j``; the diagonal holds the true pairs.

    - ``"clip"``: ``(CE(S / t, diag) + CE(S.T / t, diag)) / 2``, the symmetric InfoNCE of CLIP;
    - ``"eq1"``: ``-log(sum_i exp(S_ii / t) / sum_i sum_j exp(S_ij / t))``.

    ``temperature``: a float or a 0-d tensor (a learnt one).
    """
    if similarity.dim() != 2 or similarity.shape[0] != similarity.shape[1]:
        raise ValueError(f"similarity must be a square b x b matrix, got shape {tuple(similarity.shape)}")
    logits = similarity / temperature
    if kind == "clip":
        target = torch.arange(logits.shape[0], device=logits.device)
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2
    if kind == "eq1":
        return torch.logsumexp(logits.flatten(), 0) - torch.logsumexp(torch.diagonal(logits), 0)
    raise ValueError(f"kind {kind!r}: choose 'clip' or 'eq1'")


class _GatherWithGrad(torch.autograd.Function):
    """All processes' rows, concatenated; batches may differ in size between processes (the last
    one of an epoch). Backward: every process's loss reaches this process's rows (summed)."""

    @staticmethod
    def forward(ctx, tensor):
        import torch.distributed as dist

        world = dist.get_world_size()
        sizes = [torch.zeros(1, dtype=torch.long, device=tensor.device) for _ in range(world)]
        dist.all_gather(sizes, torch.tensor([tensor.shape[0]], device=tensor.device))
        sizes = [int(size) for size in sizes]
        padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))
        padded[: tensor.shape[0]] = tensor
        pieces = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(pieces, padded.contiguous())
        ctx.sizes, ctx.rank = sizes, dist.get_rank()
        return torch.cat([piece[:size] for piece, size in zip(pieces, sizes)], dim=0)

    @staticmethod
    def backward(ctx, grad):
        import torch.distributed as dist

        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        start = sum(ctx.sizes[: ctx.rank])
        return grad[start : start + ctx.sizes[ctx.rank]]


def gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """``tensor`` of every process concatenated along dim 0, keeping gradients (identity when
    there is one process): the matching loss then sees every process's pairs as negatives."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)


@dataclass
class GeneBertModelOutput(ModelOutput):
    """last_hidden_state (B, L, H); seq_embeds (B, D) and region_embeds (B, D) in the matching
    space (before normalisation; region_embeds is None without ``region_values``)."""

    last_hidden_state: Optional[torch.Tensor] = None
    seq_embeds: Optional[torch.Tensor] = None
    region_embeds: Optional[torch.Tensor] = None
    hidden_states: Optional[tuple] = None
    attentions: Optional[tuple] = None


@dataclass
class GeneBertForPreTrainingOutput(ModelOutput):
    """loss = mlm_loss + nsp_loss + srm_weight * srm_loss (each present when its labels/inputs are)."""

    loss: Optional[torch.Tensor] = None
    mlm_loss: Optional[torch.Tensor] = None
    nsp_loss: Optional[torch.Tensor] = None
    srm_loss: Optional[torch.Tensor] = None
    prediction_logits: Optional[torch.Tensor] = None
    seq_relationship_logits: Optional[torch.Tensor] = None
    seq_embeds: Optional[torch.Tensor] = None
    region_embeds: Optional[torch.Tensor] = None
    logit_scale: Optional[torch.Tensor] = None
    hidden_states: Optional[tuple] = None
    attentions: Optional[tuple] = None


def _bert_config(config: GeneBertConfig) -> BertConfig:
    return BertConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        hidden_act=config.hidden_act, hidden_dropout_prob=config.hidden_dropout_prob,
        attention_probs_dropout_prob=config.attention_probs_dropout_prob,
        max_position_embeddings=config.max_position_embeddings, type_vocab_size=config.type_vocab_size,
        initializer_range=config.initializer_range, layer_norm_eps=config.layer_norm_eps,
        pad_token_id=config.pad_token_id, tie_word_embeddings=config.tie_word_embeddings,
    )


class GeneBertPreTrainedModel(PreTrainedModel):
    config_class = GeneBertConfig
    config: GeneBertConfig
    base_model_prefix = "bert"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _no_split_modules = ["BertLayer", "SwinStage"]
    _keys_to_ignore_on_load_unexpected = [r"position_ids", r"relative_position_index", r"bert\.pooler\."]

    def _init_weights(self, module):
        super()._init_weights(module)
        with torch.no_grad():
            if isinstance(module, BertLMPredictionHead):
                module.bias.zero_()
            elif isinstance(module, BertEmbeddings):
                module.position_ids.copy_(torch.arange(module.position_ids.shape[-1]).expand((1, -1)))
                module.token_type_ids.zero_()
            elif type(module).__name__ == "SwinEmbeddings":  # Swin is imported with the first region encoder
                if module.mask_token is not None:
                    module.mask_token.zero_()
                if module.position_embeddings is not None:
                    module.position_embeddings.zero_()
            elif hasattr(module, "relative_position_bias_table"):
                module.relative_position_bias_table.zero_()
                if hasattr(module, "_create_relative_position_index"):
                    module.relative_position_index.copy_(module._create_relative_position_index().view(-1))
            elif isinstance(module, GeneBertModel):
                module.logit_scale.fill_(math.log(1.0 / module.config.srm_temperature_init))

    def get_input_embeddings(self):
        return self.bert.embeddings.word_embeddings

    def set_input_embeddings(self, value):
        self.bert.embeddings.word_embeddings = value

    def region_pixels(self, region_values: torch.Tensor) -> torch.Tensor:
        """The Swin input of a batch of matrices: ``(B, C, H, W)`` for the configured layout."""
        values = region_values.float()
        if values.dim() == 3:
            values = values.unsqueeze(1)
        expected = (self.config.num_regions, self.config.num_tfs)
        if values.dim() != 4 or tuple(values.shape[-2:]) != expected:
            raise ValueError(f"region_values must be (batch, {expected[0]}, {expected[1]}), got {tuple(region_values.shape)}")
        if self.config.region_layout == "image":
            # antialiased: shrinking 579 columns to 224 pixels, every column reaches the image (a
            # plain bilinear resize samples 2 columns per pixel and skips 131 of the 579)
            values = F.interpolate(values, size=self.config.swin_image_size, mode="bilinear", align_corners=False,
                                   antialias=True)
        channels = self.config.region_config.get("num_channels", 3)
        if values.shape[1] == 1 and channels > 1:
            values = values.expand(-1, channels, -1, -1)
        if self.config.region_pixel_mean is not None:  # an ImageNet-pretrained Swin's input normalisation
            mean = values.new_tensor(self.config.region_pixel_mean).view(1, -1, 1, 1)
            std = values.new_tensor(self.config.region_pixel_std).view(1, -1, 1, 1)
            values = (values - mean) / std
        return values

    def pool_sequence(self, hidden: torch.Tensor, attention_mask: Optional[torch.Tensor]) -> torch.Tensor:
        """``(B, H)``: the ``[CLS]`` state or the mean over real tokens (``config.seq_pooling``)."""
        if self.config.seq_pooling == "cls":
            return hidden[:, 0]
        if attention_mask is None:
            return hidden.mean(dim=1)
        mask = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def _encode_text(self, input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
                     output_attentions, output_hidden_states, **kwargs):
        return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                         position_ids=position_ids, inputs_embeds=inputs_embeds, output_attentions=output_attentions,
                         output_hidden_states=output_hidden_states, return_dict=True, **kwargs)


def _region_encoder(config: GeneBertConfig) -> nn.Module:
    from transformers import SwinConfig, SwinModel  # imported when a region encoder is built, not on import

    return SwinModel(SwinConfig(**config.swin_kwargs()), add_pooling_layer=True)


def _classifier_dropout(config: GeneBertConfig) -> nn.Dropout:
    return nn.Dropout(config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob)


#: what a checkpoint of the pretraining model holds beyond the k-mer encoder (skipped by the heads)
_REGION_AND_MATCHING = [r"^region_encoder\.", r"^seq_projection\.", r"^region_projection\.", r"^logit_scale$"]


class GeneBertModel(GeneBertPreTrainedModel):
    """Both encoders and the matching space; the base of every GeneBERT model.

    ``region_values``: ``(B, num_regions, num_tfs)`` (or ``(B, 1, num_regions, num_tfs)``), the
    motif matrix of the sample's regions, in the column order of ``config.tf_ids``.
    """

    def __init__(self, config: GeneBertConfig):
        super().__init__(config)
        self.bert = BertModel(_bert_config(config), add_pooling_layer=False)
        self.region_encoder = _region_encoder(config)
        dim = config.srm_dim
        self.seq_projection = nn.Linear(config.hidden_size, dim, bias=False) if dim else nn.Identity()
        self.region_projection = nn.Linear(config.region_hidden_size, dim, bias=False) if dim else nn.Identity()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / config.srm_temperature_init)),
                                        requires_grad=config.srm_learn_temperature)
        if type(self) is GeneBertModel:  # the head models call post_init() once their heads exist
            self.post_init()

    def encode_regions(self, region_values: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` region embeddings in the matching space."""
        pooled = self.region_encoder(pixel_values=self.region_pixels(region_values)).pooler_output
        return self.region_projection(pooled)

    @can_return_tuple
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, region_values=None,
                position_ids=None, inputs_embeds=None, output_attentions=None, output_hidden_states=None,
                **kwargs) -> GeneBertModelOutput:
        out = self._encode_text(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
                                output_attentions, output_hidden_states, **kwargs)
        hidden = out.last_hidden_state
        seq_embeds = self.seq_projection(self.pool_sequence(hidden, attention_mask))
        region_embeds = self.encode_regions(region_values) if region_values is not None else None
        return GeneBertModelOutput(last_hidden_state=hidden, seq_embeds=seq_embeds, region_embeds=region_embeds,
                                   hidden_states=out.hidden_states, attentions=out.attentions)

    def matching_loss(self, seq_embeds: torch.Tensor, region_embeds: torch.Tensor) -> torch.Tensor:
        """The SRM loss of a batch, negatives from every process (``gather_with_grad``)."""
        seq = F.normalize(gather_with_grad(seq_embeds.float()), dim=-1)
        region = F.normalize(gather_with_grad(region_embeds.float()), dim=-1)
        temperature = torch.exp(-self.logit_scale.clamp(max=_MAX_LOGIT_SCALE))
        return srm_loss(seq @ region.t(), temperature, self.config.srm_loss)


class _TiedMlmHead:
    """Mixin: ``self.cls.predictions``' decoder is tied to the k-mer embeddings."""

    _tied_weights_keys = {"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
                          "cls.predictions.decoder.bias": "cls.predictions.bias"}

    def get_output_embeddings(self):
        return self.cls.predictions.decoder

    def set_output_embeddings(self, value):
        self.cls.predictions.decoder = value
        self.cls.predictions.bias = value.bias


class GeneBertForPreTraining(_TiedMlmHead, GeneBertModel):
    """MLM + next-sequence prediction + sequence-region matching (one pass on the masked input).

    ``labels``: (B, L) k-mer ids at masked positions, -100 elsewhere; ``next_sentence_label``:
    (B,) 0 = B follows A, 1 = B is random (BERT's convention); ``region_values`` as
    :class:`GeneBertModel`. ``loss = mlm_loss + nsp_loss + srm_weight * srm_loss`` over the parts given.
    """

    def __init__(self, config: GeneBertConfig):
        super().__init__(config)
        self.cls = BertPreTrainingHeads(_bert_config(config))
        self.post_init()

    @can_return_tuple
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, region_values=None, labels=None,
                next_sentence_label=None, output_attentions=None, output_hidden_states=None,
                masked_logits_only: bool = False, compute_matching_loss: bool = True, position_ids=None,
                inputs_embeds=None, **kwargs) -> GeneBertForPreTrainingOutput:
        """``masked_logits_only`` (with ``labels``): the k-mer head runs on the masked positions only
        and ``prediction_logits`` is ``(n_masked, vocab)`` in row-major order of ``labels != -100``;
        the loss is the same, the step much cheaper (the head's 4**k outputs dominate a small model).

        ``compute_matching_loss=False``: both embeddings are returned but no ``srm_loss`` is
        computed (nor counted in ``loss``), and ``logit_scale`` is the live parameter, so that a
        caller can build the matching loss over a larger batch (cached embeddings across
        gradient accumulation); otherwise ``logit_scale`` is returned detached."""
        base = super().forward(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                               region_values=region_values, position_ids=position_ids, inputs_embeds=inputs_embeds,
                               output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                               return_dict=True, **kwargs)
        hidden = base.last_hidden_state
        relationship_logits = self.cls.seq_relationship(hidden[:, 0])
        mlm = nsp = srm = None
        if masked_logits_only and labels is not None:
            chosen = labels != -100
            prediction_logits = self.cls.predictions(hidden[chosen])
            mlm = F.cross_entropy(prediction_logits.float(), labels[chosen])
        else:
            prediction_logits = self.cls.predictions(hidden)
            if labels is not None:
                mlm = F.cross_entropy(prediction_logits.view(-1, self.config.vocab_size).float(), labels.view(-1),
                                      ignore_index=-100)
        if next_sentence_label is not None:
            nsp = F.cross_entropy(relationship_logits.float(), next_sentence_label.view(-1))
        if base.region_embeds is not None and compute_matching_loss:
            srm = self.matching_loss(base.seq_embeds, base.region_embeds)
        parts = [part for part in (mlm, nsp) if part is not None]
        if srm is not None:
            parts.append(self.config.srm_weight * srm)
        loss = torch.stack(parts).sum() if parts else None
        return GeneBertForPreTrainingOutput(loss=loss, mlm_loss=mlm, nsp_loss=nsp, srm_loss=srm,
                                            prediction_logits=prediction_logits,
                                            seq_relationship_logits=relationship_logits, seq_embeds=base.seq_embeds,
                                            region_embeds=base.region_embeds,
                                            # a copy with a graph (not the leaf): DDP finds the parameter through it
                                            logit_scale=self.logit_scale.clone() if not compute_matching_loss
                                            else self.logit_scale.detach(),
                                            hidden_states=base.hidden_states, attentions=base.attentions)


@dataclass
class GeneBertMaskedLMOutput(ModelOutput):
    loss: Optional[torch.Tensor] = None
    logits: Optional[torch.Tensor] = None
    hidden_states: Optional[tuple] = None
    attentions: Optional[tuple] = None


class GeneBertForMaskedLM(_TiedMlmHead, GeneBertPreTrainedModel):
    """The k-mer encoder with BERT's MLM head (``cls.predictions``), nothing else: a DNABERT
    ``BertForMaskedLM`` checkpoint loads into it unchanged."""

    _keys_to_ignore_on_load_unexpected = GeneBertPreTrainedModel._keys_to_ignore_on_load_unexpected + \
        _REGION_AND_MATCHING + [r"^cls\.seq_relationship\."]

    def __init__(self, config: GeneBertConfig):
        super().__init__(config)
        self.bert = BertModel(_bert_config(config), add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(_bert_config(config))
        self.post_init()

    @can_return_tuple
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, output_attentions=None,
                output_hidden_states=None, position_ids=None, inputs_embeds=None, **kwargs) -> GeneBertMaskedLMOutput:
        out = self._encode_text(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
                                output_attentions, output_hidden_states, **kwargs)
        logits = self.cls(out.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.config.vocab_size).float(), labels.view(-1), ignore_index=-100)
        return GeneBertMaskedLMOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                      attentions=out.attentions)


class GeneBertForSequenceClassification(GeneBertPreTrainedModel):
    """Sequence classification from the pooled sequence embedding (before projection); with
    ``config.fuse_regions`` [ours, off by default] the model also carries the Swin and the region
    embedding of ``region_values`` is concatenated (late fusion).

    Loss by ``config.problem_type``: ``"single_label_classification"`` (cross-entropy, integer
    labels), ``"multi_label_classification"`` (BCE with logits, float labels), ``"regression"``
    (MSE). When unset: ``num_labels == 1`` means one binary label scored with BCE (BERT would
    regress with MSE here), integer labels with ``num_labels > 1`` cross-entropy, float labels BCE.
    """

    _keys_to_ignore_on_load_unexpected = GeneBertPreTrainedModel._keys_to_ignore_on_load_unexpected + \
        _REGION_AND_MATCHING + [r"^cls\."]

    def __init__(self, config: GeneBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(_bert_config(config), add_pooling_layer=False)
        self.region_encoder = _region_encoder(config) if config.fuse_regions else None
        width = config.hidden_size + (config.region_hidden_size if config.fuse_regions else 0)
        self.dropout = _classifier_dropout(config)
        self.classifier = nn.Linear(width, config.num_labels)
        self.post_init()

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        labels = labels.to(logits.device)
        problem = self.config.problem_type
        if problem is None:
            single = self.num_labels > 1 and not labels.is_floating_point()
            problem = "single_label_classification" if single else "multi_label_classification"
        if problem == "regression":
            return F.mse_loss((logits.squeeze(-1) if self.num_labels == 1 else logits).float(), labels.float())
        if problem == "single_label_classification":
            return F.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1).long())
        return F.binary_cross_entropy_with_logits(logits.float(), labels.float().view_as(logits))

    @can_return_tuple
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, region_values=None, labels=None,
                output_attentions=None, output_hidden_states=None, position_ids=None, inputs_embeds=None,
                **kwargs) -> SequenceClassifierOutput:
        out = self._encode_text(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
                                output_attentions, output_hidden_states, **kwargs)
        features = self.pool_sequence(out.last_hidden_state, attention_mask)
        if self.region_encoder is not None:
            if region_values is None:
                raise ValueError("this model was configured with fuse_regions=True: pass region_values")
            features = torch.cat([features, self.region_encoder(
                pixel_values=self.region_pixels(region_values)).pooler_output], dim=-1)
        logits = self.classifier(self.dropout(features))
        loss = self._loss(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                        attentions=out.attentions)


class GeneBertForTokenClassification(GeneBertPreTrainedModel):
    """A label per k-mer token (a nucleotide's label goes to the k-mer it starts; ``-100`` ignored)."""

    _keys_to_ignore_on_load_unexpected = GeneBertPreTrainedModel._keys_to_ignore_on_load_unexpected + \
        _REGION_AND_MATCHING + [r"^cls\."]

    def __init__(self, config: GeneBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(_bert_config(config), add_pooling_layer=False)
        self.dropout = _classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    @can_return_tuple
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, output_attentions=None,
                output_hidden_states=None, position_ids=None, inputs_embeds=None, **kwargs) -> TokenClassifierOutput:
        out = self._encode_text(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds,
                                output_attentions, output_hidden_states, **kwargs)
        logits = self.classifier(self.dropout(out.last_hidden_state))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1), ignore_index=-100)
        return TokenClassifierOutput(loss=loss, logits=logits, hidden_states=out.hidden_states,
                                     attentions=out.attentions)
