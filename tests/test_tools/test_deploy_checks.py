"""tools/deploy_anonymizer.py warns without --checkpoint and when the checkpoint does not
fit f_A (the written config would fail to build)."""
from pathlib import Path

import mmaction
import torch
from conftest import load_tool

from spact_mm.models.anonymizers import UNetAnonymizer

deploy_anonymizer_main = load_tool('deploy_anonymizer.py').main

ROOT = Path(__file__).resolve().parents[2]
TSN = str(Path(mmaction.__file__).parent / '.mim/configs/recognition/tsn'
          / 'tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
DEMO = str(ROOT / 'configs/spact/spact-stage3_unet-tiny-r3d18-r18_minimax-150iter_synthetic-a.py')


def _ckpt(path: Path, base_channels: int) -> str:
    unet = UNetAnonymizer(base_channels=base_channels, num_stages=3)
    torch.save(dict(state_dict={f'data_preprocessor.anonymizer.{k}': v
                                for k, v in unet.state_dict().items()}), path)
    return str(path)


def test_no_checkpoint_warns_and_writes(tmp_path, capsys):
    out = tmp_path / 'a.py'
    assert deploy_anonymizer_main([TSN, '--anonymizer-config', DEMO, '--out', str(out)]) == 0
    assert 'warning: no --checkpoint' in capsys.readouterr().err
    assert out.is_file()


def test_checkpoint_that_does_not_fit_is_named(tmp_path, capsys):
    out = tmp_path / 'b.py'
    bad = _ckpt(tmp_path / 'w4.pth', 4)  # the demo f_A has 16 base channels
    assert deploy_anonymizer_main([TSN, '--anonymizer-config', DEMO, '--checkpoint', bad,
                                   '--out', str(out)]) == 0
    err = capsys.readouterr().err
    assert 'warning' in err and 'does not fit' in err and 'w4.pth' in err
    good = _ckpt(tmp_path / 'w16.pth', 16)
    assert deploy_anonymizer_main([TSN, '--anonymizer-config', DEMO, '--checkpoint', good,
                                   '--out', str(out)]) == 0
    assert 'warning' not in capsys.readouterr().err and out.is_file()


def test_readme_names_the_model_zoo_checkpoint_of_mmaction2s_metafile():
    """The deployment example's TSN weights are the ones mmaction2's metafile lists."""
    import yaml

    meta = yaml.safe_load((Path(TSN).parent / 'metafile.yml').read_text())
    name = Path(TSN).stem
    url = next(m['Weights'] for m in meta['Models'] if m['Name'] == name)
    readme = (ROOT / 'README.md').read_text()
    assert url in readme and f'checkpoints/{url.rsplit("/", 1)[1]}' in readme
