"""Watch f_A during training: raw-vs-anonymized grids of fixed validation clips."""
from typing import Dict, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from spact_mm.registry import HOOKS


@HOOKS.register_module()
class AnonymizationVisualizationHook(Hook):
    """Write a grid of raw versus anonymized frames after every validation (and test).

    The clips are fixed: the first ``num_clips`` samples that the first
    validation sees (validation loaders do not shuffle) are kept and shown again
    at every later validation, so the grids of one run show how f_A
    (Sec. 3.2.1) changes from stage 1's identity through the minimax of
    Eq. 7-9. Each grid (per clip, raw frames above f_A's frames; see
    :func:`spact_mm.visualization.anonymization_grid`) goes to the runner's
    visualizer with ``add_image(name, grid, step=runner.iter)``, that is, to
    every configured backend: ``LocalVisBackend`` writes
    ``{work_dir}/{timestamp}/vis_data/vis_image/{name}_{iter}.png``,
    ``TensorboardVisBackend`` an image summary.

    Models whose data preprocessor is not an ``AnonymizerDataPreprocessor``
    are skipped with a warning.

    Args:
        num_clips: Number of validation clips shown.
        num_frames: Frames per clip, evenly spaced over the clip.
        scale: Integer upscaling of the grid (small demo clips are 32x32).
        name: Image name in the visualizer backends.
        test: Also write a grid (named ``{name}_test``) after testing.
    """

    priority = 'LOW'

    def __init__(self, num_clips: int = 4, num_frames: int = 4, scale: int = 1,
                 name: str = 'anonymization', test: bool = True) -> None:
        self.num_clips = num_clips
        self.num_frames = num_frames
        self.scale = scale
        self.name = name
        self.test = test
        self._clips: Dict[str, Optional[dict]] = dict(val=None, test=None)
        self._warned = False

    # ---------------------------------------------------------------- clips
    def _collect(self, mode: str, data_batch: Optional[dict]) -> None:
        """Keep the first ``num_clips`` samples seen in ``mode`` (copied)."""
        clips = self._clips[mode]
        if clips is not None and len(clips['inputs']) >= self.num_clips:
            return
        if not isinstance(data_batch, dict) or 'inputs' not in data_batch:
            return
        if clips is None:
            clips = self._clips[mode] = dict(inputs=[], data_samples=[])
        take = self.num_clips - len(clips['inputs'])
        clips['inputs'] += [x.detach().clone() for x in data_batch['inputs'][:take]]
        clips['data_samples'] += list(data_batch.get('data_samples') or [])[:take]

    def after_val_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        """Collect the fixed clips during the first validation."""
        self._collect('val', data_batch)

    def after_test_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Collect the fixed clips during the first test."""
        if self.test:
            self._collect('test', data_batch)

    # ----------------------------------------------------------------- draw
    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Write the validation clips' grid at step ``runner.iter``."""
        self._draw(runner, 'val', self.name)

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Write the test clips' grid."""
        if self.test:
            self._draw(runner, 'test', f'{self.name}_test')

    def _draw(self, runner, mode: str, name: str) -> None:
        from spact_mm.models.data_preprocessors import AnonymizerDataPreprocessor
        from spact_mm.visualization import batch_anonymization_grid

        clips = self._clips[mode]
        if not clips or not clips['inputs']:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pre = getattr(model, 'data_preprocessor', None)
        if not isinstance(pre, AnonymizerDataPreprocessor):
            if not self._warned:
                runner.logger.warning('AnonymizationVisualizationHook: the model has no '
                                      'AnonymizerDataPreprocessor; nothing to draw')
                self._warned = True
            return
        grid = batch_anonymization_grid(pre, dict(clips), self.num_clips, self.num_frames,
                                        self.scale)
        runner.visualizer.add_image(name, grid, step=runner.iter)
