"""DDP for a model whose trainable branches change every iteration (Sec. 3.3)."""
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS

from spact_mm.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class SPActDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` set up for the minimax alternation.

    :class:`MinimaxOptimWrapper` freezes f_T and f_B in step 1 (Eq. 9) and f_A
    in step 2 (Eq. 7, 8) by switching ``requires_grad``; stage 2 never trains
    f_A. Plain DDP expects a gradient for every parameter that required grad
    when it was built and raises an error when one is missing (PyTorch's
    documented behaviour; our tests only run the ``True`` setting), so
    ``find_unused_parameters`` defaults to ``True`` here: DDP then walks the
    autograd graph of each loss and marks the frozen parameters as done, and
    it all-reduces exactly the gradients this phase builds.

    mmengine's ``MMSeparateDistributedDataParallel`` (one DDP per top-level
    submodule, as for GANs) does not fit an mmaction2 recognizer: the
    recognizer calls ``cls_head.loss`` and ``privacy_head.loss``, methods that
    a DDP-wrapped submodule no longer exposes, and a branch is not a single
    top-level submodule (f_T is ``backbone`` + ``neck`` + ``cls_head``).

    PyTorch's ``SyncBatchNorm`` runs only on GPUs. On CPU (gloo, no
    ``device_ids``) its layers, e.g. the default norm of mmpretrain's
    ``NonLinearNeck`` or those made by the config option ``sync_bn='torch'``,
    are reverted to plain batch norm, with a warning.

    Args:
        module: The model (a :class:`SPActRecognizer`).
        find_unused_parameters: See above; keep ``True`` for minimax stages.
        **kwargs: Arguments of ``MMDistributedDataParallel``
            (``device_ids``, ``broadcast_buffers``, ...).
    """

    def __init__(self, module: nn.Module, find_unused_parameters: bool = True,
                 **kwargs) -> None:
        on_cpu = all(not p.is_cuda for p in module.parameters())
        if on_cpu and any(isinstance(m, nn.SyncBatchNorm) for m in module.modules()):
            print_log('SyncBatchNorm runs only on GPUs: reverted to BatchNorm for CPU '
                      'distributed training (per-rank batch statistics)', logger='current',
                      level=30)
            module = revert_sync_batchnorm(module)
        super().__init__(module=module, find_unused_parameters=find_unused_parameters, **kwargs)


# mmengine's ``Runner.wrap_model`` looks the wrapper type up with
# ``mmengine.registry.MODEL_WRAPPERS.get(type)``, which ignores the default
# scope and so never reaches our child registry; register the class in the
# root registry too (under a name no OpenMMLab wrapper uses).
if 'SPActDistributedDataParallel' not in MMENGINE_MODEL_WRAPPERS.module_dict:
    MMENGINE_MODEL_WRAPPERS.register_module(module=SPActDistributedDataParallel)
