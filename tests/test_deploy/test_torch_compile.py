"""The torch backend's ``compile`` option: torch.compile (inductor, frozen weights) gives
f_A's output, and a smaller last batch is padded instead of recompiled."""
import shutil

import numpy as np
import pytest
import torch

from spact_mm.apis.backends import TorchAnonymizer
from spact_mm.apis.inference import FrameStream
from spact_mm.models.anonymizers import UNetAnonymizer


@pytest.mark.skipif(shutil.which('g++') is None and shutil.which('c++') is None,
                    reason='torch.compile on CPU needs a C++ compiler')
def test_compiled_runner_matches_eager_and_pads_the_last_batch():
    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=2).eval()
    # (fixed threads: ThreadChoice's trial would compile each shape twice; test_thread_choice)
    compiled = TorchAnonymizer(unet, compile=True, adaptive_threads=False)
    plain = TorchAnonymizer(unet)
    frames = np.random.default_rng(0).integers(0, 256, (7, 16, 24, 3), dtype=np.uint8)
    outs = []
    for runner in (compiled, plain):
        stream = FrameStream(runner, (16, 24), batch_size=4)  # passes of 4, then 3
        outs.append(np.concatenate([stream(frames), stream.flush()]))
    assert np.abs(outs[0].astype(int) - outs[1]).max() <= 1
    assert compiled._batch == {(3, 16, 24): 4}  # the last 3 frames ran padded to 4
    x = torch.rand(4, 3, 16, 24)
    with torch.inference_mode():
        ref = unet(x)
    assert torch.allclose(compiled.anonymize_unit(x), ref, atol=1e-5)
    assert torch.allclose(compiled.anonymize_unit(x[:1]), ref[:1], atol=1e-5)


@pytest.mark.skipif(shutil.which('g++') is None and shutil.which('c++') is None,
                    reason='torch.compile on CPU needs a C++ compiler')
@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason='needs oneDNN')
def test_compiled_runner_freezes_and_prepacks_every_conv():
    """Without inductor's global ``freezing`` flag while Dynamo traces, the weights
    become graph inputs and inductor packs none of them (the defect this guards)."""
    import torch._inductor.config as inductor_config
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    unet = UNetAnonymizer(base_channels=4, num_stages=2).eval()
    n_convs = sum(isinstance(m, torch.nn.Conv2d) for m in unet.modules())
    counters.clear()
    with inductor_config.patch(force_disable_caches=True):  # a cache hit runs no passes
        runner = TorchAnonymizer(unet, compile=True)
        x = torch.rand(2, 3, 16, 24)
        out = runner.anonymize_unit(x)
    assert counters['inductor']['mkldnn_conv_weight_pack_matcher_count'] == n_convs
    with torch.inference_mode():
        assert torch.allclose(out, unet(x), atol=1e-5)
