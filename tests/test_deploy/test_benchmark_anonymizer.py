"""tools/analysis_tools/benchmark_anonymizer.py on tiny inputs: every backend row is
there, with its ratio to ONNX Runtime when that backend runs (no timing asserts)."""
import importlib.util

import pytest
import torch
from conftest import load_tool

_bench = load_tool('analysis_tools/anonymizer_benchmark.py')
HEADER, benchmark = _bench.HEADER, _bench.benchmark

HAS_ORT = all(importlib.util.find_spec(n) for n in ('onnx', 'onnxscript', 'onnxruntime'))


def test_rows_per_anonymizer_size_and_backend():
    backends = ['eager', 'torch'] + (['onnxruntime'] if HAS_ORT else [])
    lines = []
    rows = benchmark(['camera', 'motion-only'], ['32x16', '48x32'], backends, iters=1,
                     warmup=0, threads=1, clip_len=3, repeats=2, logger=lines.append)
    assert [(r['anonymizer'], r['size'], r['backend']) for r in rows] == [
        (a, s, b) for a in ('camera', 'motion-only') for s in ('32x16', '48x32')
        for b in backends]
    assert len(lines) == len(rows) and all(line.count('|') == HEADER.count('|')
                                           for line in lines)
    for r in rows:
        assert r['frames_per_s'] > 0 and r['iters'] == 1
        assert r['threads'] == (1 if r['backend'] == 'torch' else None)
        if r['anonymizer'] == 'camera':
            assert r['gflop_per_frame'] > 0
        if HAS_ORT:
            ort = [o for o in rows if o['backend'] == 'onnxruntime'
                   and (o['anonymizer'], o['size']) == (r['anonymizer'], r['size'])][0]
            assert r['ratio_to_onnxruntime'] == pytest.approx(
                r['frames_per_s'] / ort['frames_per_s'])
        else:
            assert r['ratio_to_onnxruntime'] is None
    # a camera frame of 48x32 costs more than one of 32x16, in proportion to its pixels
    # (sizes that are multiples of the camera f_A's size divisor, 16: no padding)
    cam = {r['size']: r['gflop_per_frame'] for r in rows
           if r['anonymizer'] == 'camera' and r['backend'] == 'eager'}
    assert cam['48x32'] / cam['32x16'] == pytest.approx(48 * 32 / (32 * 16), rel=1e-6)


def test_cli_prints_the_load_and_a_table(capsys, tmp_path):
    assert load_tool('analysis_tools/benchmark_anonymizer.py').main(
        ['--anonymizers', 'downsample-4x', '--sizes', '16x16', '--backends', 'eager',
         '--iters', '1', '--json', str(tmp_path / 'b.json')]) == 0
    out = capsys.readouterr().out
    assert 'load average' in out and HEADER in out and '| downsample-4x | 16x16 | eager |' in out
    assert (tmp_path / 'b.json').stat().st_size > 0


def test_batched_passes_count_every_frame_and_the_same_flops_per_frame():
    one = benchmark(['camera', 'bdq-fixed'], ['32x24'], ['eager'], iters=1, warmup=0,
                    threads=1, clip_len=3, repeats=1, logger=lambda line: None)
    four = benchmark(['camera', 'bdq-fixed'], ['32x24'], ['eager'], iters=1, warmup=0,
                     threads=1, clip_len=3, repeats=1, batch=4, logger=lambda line: None)
    for a, b in zip(one, four):  # FLOPs per frame do not depend on the frames per pass
        assert b['gflop_per_frame'] == pytest.approx(a['gflop_per_frame'], rel=1e-6)
    assert all(r['gflop_per_frame'] > 0 for r in one)  # a frame f_A and a clip f_A
    with pytest.raises(ValueError, match='batch'):
        benchmark(['camera'], ['32x24'], ['eager'], iters=1, warmup=0, batch=0,
                  logger=lambda line: None)


def test_conv_prepack_benchmark_prints_a_row_per_conv(capsys):
    import torch.nn as nn

    from spact_mm.apis.conv_prepack import prepack_available

    if not prepack_available():
        pytest.skip('no oneDNN prepacking ops')
    assert load_tool('analysis_tools/benchmark_conv_prepack.py').main(
        ['--anonymizer', 'camera', '--size', '16', '16', '--calls', '1', '--rounds', '1',
         '--threads', '1']) == 0
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith('| ') and ' -> ' in line and 'channels' not in line]
    convs = sum(type(m) is nn.Conv2d for m in _bench.build_anonymizer('camera').modules())
    assert len(rows) == convs > 0
    assert all(row.count('|') == 6 for row in rows)



def test_warm_up_finishes_the_thread_trial_and_the_row_reports_its_choice():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        module = _bench.build_anonymizer('camera')
        x = _bench.frame_input(module, (24, 32), 3)
        run = _bench._runner(module, 'torch', threads=2)
        choice = run.__self__.thread_choice
        assert choice.threads_for(tuple(x.shape)) is None
        _bench._finish_thread_trial(run, x)
        chosen = choice.threads_for(tuple(x.shape))
        assert chosen in (1, 2) and _bench._threads_used(run, x) == chosen
    finally:
        torch.set_num_threads(before)


def test_interleaved_timing_calls_every_backend_equally_often(monkeypatch):
    calls = []
    real_runner = _bench._runner

    def counting_runner(module, backend, *args):
        run = real_runner(module, backend, *args)

        def counted(x):
            calls.append(backend)
            return run(x)
        return counted
    monkeypatch.setattr(_bench, '_runner', counting_runner)
    rows = benchmark(['motion-only'], ['16x16'], ['eager', 'torch'], iters=3, warmup=0,
                     threads=1, repeats=2, interleave=True, logger=lambda line: None)
    assert calls == ['eager', 'torch'] * 6  # in turn, iters x repeats cycles
    assert [r['iters'] for r in rows] == [6, 6] and all(r['frames_per_s'] > 0 for r in rows)
