import numpy as np
from kipoi.model import BaseModel

from splicebert_plugin.scoring.kipoi_adapter import VariantEffectModel

# kipoi's .h5/.zarr writers still use aliases that numpy 2 removed
if not hasattr(np, "string_"):
    np.string_, np.unicode_ = np.bytes_, np.str_


class SpliceBertModel(BaseModel):
    def __init__(self, weights, batch_size=16):
        self.impl = VariantEffectModel(weights, batch_size=batch_size, folder=__file__)

    def predict_on_batch(self, x):
        return self.impl.predict_on_batch(x)
