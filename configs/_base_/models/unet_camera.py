# The camera-sized f_A of configs/spact-camera/ (issue 17), in one place for its three stages.
# The demo's 3-level UNet of 16 base channels on 4x4 pixel blocks (space_to_depth=4: 48
# channels at 1/4 of the resolution in, 48 out, put back by pixel_shuffle), so that no layer
# works at full resolution: torch.utils.flop_counter counts 1.36 GFLOP per 640x480 frame
# against the demo f_A's 17.3. Until session 16 it was the plain UNet of 4 base channels
# (1.14 GFLOP), whose 4- and 8-channel full-resolution layers ONNX Runtime pads to
# 16-float blocks on AVX-512 CPUs (12 frames/s at 640x480 there; docs/benchmark.md).
camera_anonymizer = dict(type='UNetAnonymizer', base_channels=16, num_stages=3, space_to_depth=4)
